package imsync.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.cluster.typed.Cluster;
import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.FluentWait;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The operator console in a real browser (Debian's headless Chromium) against a cluster of two nodes on the
 * test Cassandra: sign-in, members, the shard grid, moving a shard through the page to the other node,
 * an account lookup, and a screenshot in {@code target/console.png}.
 */
@ExtendWith(LocalCassandra.class)
class ConsoleBrowserTest {
  // a fresh account each run: the test Cassandra is shared across runs, and a reused account's message
  // (seq 1 again) would be ignored, leaving the session history only to what the retention job kept
  private static final String ACCOUNT = "console-alice-" + System.currentTimeMillis() % 1_000_000;
  private static final String SESSION = "dm-console-bob";
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private static TestNode first;
  private static TestNode second;
  private static String firstAddress;
  private static String secondAddress;
  private static WebDriver browser;

  @BeforeAll
  static void start() {
    first = TestNode.start();
    firstAddress = Cluster.get(first.system).selfMember().address().toString();
    second = TestNode.start("imsync.cluster.join-self = false\nimsync.cluster.seed-nodes = \"" + firstAddress + "\"");
    secondAddress = Cluster.get(second.system).selfMember().address().toString();
    browser = chromium();
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      // what the page showed last, for a failure's post-mortem
      Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(),
          Path.of(System.getProperty("imsync.project.dir", "."), "target", "console-last.png"), StandardCopyOption.REPLACE_EXISTING);
      browser.quit();
    }
    if (second != null) second.close();
    if (first != null) first.close();
  }

  /** Debian's Chromium and its driver, named explicitly so Selenium Manager never looks for (or downloads) one. */
  private static WebDriver chromium() {
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File("/usr/bin/chromedriver"))
        .usingAnyFreePort()
        .build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary("/usr/bin/chromium");
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--window-size=1440,1000", "--user-data-dir=" + freshProfile());
    return new ChromeDriver(service, options);
  }

  private static String freshProfile() {
    try {
      return Files.createTempDirectory("imsync-console-chromium").toString();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void operatorSeesTheClusterMovesAShardAndLooksUpAnAccount() throws Exception {
    Api api = first.api();
    String operator = Api.operatorToken();
    awaitApi("both members up and the shards planned over both", () -> {
      JsonNode c = api.get("/admin/cluster", operator).body();
      JsonNode members = c.path("members");
      if (members.size() != 2) return false;
      for (JsonNode m : members) {
        if (!m.path("status").asText().equals("up") || m.path("planned_shards").asInt() != 150) return false;
      }
      return true;
    });

    // traffic for one account: a message and a device that synced it
    // (the shards are still being handed over to the second node: their accounts answer 503 meanwhile)
    long ts = System.currentTimeMillis();
    awaitApi("the account takes a message", () -> api.post("/v1/ingest", Api.serviceToken(), "{\"events\":[{\"type\":\"message\","
        + "\"account_ids\":[\"" + ACCOUNT + "\"],\"session_id\":\"" + SESSION + "\",\"session_kind\":\"direct\",\"title\":\"Bob\","
        + "\"seq\":1,\"sender_id\":\"bob\",\"preview\":\"hi\",\"ts\":" + ts + "}]}").status() == 200);
    awaitApi("a device syncs", () -> api.post("/v1/sync", Api.deviceToken(ACCOUNT, "phone"), "{\"limit\": 100}").status() == 200);
    JsonNode stats = api.get("/admin/accounts/" + ACCOUNT, operator).body();
    String shard = stats.path("shard_id").asText();

    // the page and its files need no token; only files of the console are served
    HttpResponse<String> page = fetch("/console");
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
    assertEquals(200, fetch("/console/console.js").statusCode());
    HttpResponse<String> other = fetch("/console/application.conf");
    assertEquals(404, other.statusCode());
    assertTrue(other.body().contains("\"not_found\""), other.body());

    browser.get("http://127.0.0.1:" + first.port + "/console");
    WebDriverWait wait = new WebDriverWait(browser, PATIENCE);

    // a token without the operator scope is refused in the page
    signIn(wait, Api.deviceToken(ACCOUNT, "phone"));
    WebElement loginError = wait.until(d -> visible(d, By.id("login-error")));
    wait.until(d -> loginError.getText().contains("403"));
    assertFalse(browser.findElement(By.id("app")).isDisplayed());

    signIn(wait, operator);
    wait.until(d -> d.findElements(By.cssSelector("#members tbody tr")).size() == 2);
    for (String address : List.of(firstAddress, secondAddress)) {
      WebElement row = browser.findElement(By.cssSelector("#members tr[data-address='" + address + "']"));
      assertTrue(row.getText().contains("up"), row.getText());
    }

    // the account's shard sits in its node's group; moved through the page, it lands in the other's
    String cell = "button.shard[data-shard='" + shard + "']";
    // the balancer may still move the shard after the second node joined, and a moved shard only runs
    // again with its next request: keep the account busy until the grid shows the shard on some node
    String[] hosting = new String[1];
    wait.until(d -> {
      api.get("/admin/accounts/" + ACCOUNT, operator);
      for (String address : List.of(firstAddress, secondAddress)) {
        if (!d.findElements(By.cssSelector(".shard-group[data-node='" + address + "'] " + cell)).isEmpty()) {
          hosting[0] = address;
          return true;
        }
      }
      return false;
    });
    String from = hosting[0];
    String to = from.equals(firstAddress) ? secondAddress : firstAddress;
    browser.findElement(By.cssSelector(cell)).click();
    WebElement target = wait.until(d -> visible(d, By.id("move-target")));
    new Select(target).selectByValue(to);
    browser.findElement(By.id("dialog-ok")).click();
    wait.until(d -> {
      // a moved shard starts on its new node with its next request: keep the account busy
      api.get("/admin/accounts/" + ACCOUNT, operator);
      return !d.findElements(By.cssSelector(".shard-group[data-node='" + to + "'] " + cell)).isEmpty();
    });
    assertTrue(browser.findElements(By.cssSelector(".shard-group[data-node='" + from + "'] " + cell)).isEmpty());
    wait.until(d -> d.findElement(By.id("shards-note")).getText().contains("Shard " + shard + " is now on"));
    assertEquals(to, api.get("/admin/accounts/" + ACCOUNT, operator).body().path("node").asText());

    // the account lookup: stats, devices, and the session's history
    browser.findElement(By.id("account-id")).sendKeys(ACCOUNT);
    browser.findElement(By.id("account-lookup")).click();
    wait.until(d -> d.findElements(By.cssSelector("#account-stats dd[data-key='sessions']")).stream()
        .anyMatch(e -> e.getText().equals("1")));
    assertEquals(shard, browser.findElement(By.cssSelector("#account-stats dd[data-key='shard_id']")).getText());
    wait.until(d -> d.findElement(By.id("account-devices")).getText().contains("phone"));
    browser.findElement(By.id("session-id")).sendKeys(SESSION);
    browser.findElement(By.id("history-lookup")).click();
    wait.until(d -> !d.findElements(By.cssSelector("#session-history tbody tr")).isEmpty());
    assertTrue(browser.findElement(By.id("session-history")).getText().toLowerCase().contains("message"));

    // a few samples of some traffic in the charts, then the picture for the README
    wait.until(d -> {
      traffic(api);
      return Integer.parseInt(d.findElement(By.id("chart-rps")).getAttribute("data-points")) >= 8;
    });
    screenshot(Path.of(System.getProperty("imsync.project.dir", "."), "target", "console.png"));
    assertTrue(browser.findElement(By.id("banner")).getText().isEmpty());

    // the operator's buttons: rebalancing by load and by count, then draining the second node
    browser.findElement(By.id("rebalance-load")).click();
    wait.until(d -> d.findElement(By.id("members-note")).getText().startsWith("Rebalanced by load"));
    browser.findElement(By.id("rebalance-count")).click();
    wait.until(d -> d.findElement(By.id("members-note")).getText().startsWith("Rebalanced by count"));
    // the members table is redrawn with every refresh: a button found just before a redraw is looked up again
    wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class)
        .until(d -> {
          d.findElement(By.cssSelector("#members tr[data-address='" + secondAddress + "'] button.drain")).click();
          return true;
        });
    wait.until(d -> visible(d, By.id("dialog-ok"))).click();
    wait.until(d -> d.findElements(By.cssSelector("#members tr[data-address='" + secondAddress + "'] .status-up")).isEmpty());
    assertEquals(1, browser.findElements(By.cssSelector("#members tr[data-address='" + firstAddress + "'] .status-up")).size());
  }

  private int round;

  /** One round of traffic over a few dozen accounts, a handful of them hot, so shards and charts show load. */
  private void traffic(Api api) {
    round++;
    StringBuilder events = new StringBuilder();
    for (int hot = 0; hot < 6; hot++) {
      StringBuilder accounts = new StringBuilder();
      int fanOut = hot == 0 ? 48 : 1;
      for (int a = 0; a < fanOut; a++) accounts.append(accounts.length() == 0 ? "" : ",").append("\"load-").append(hot == 0 ? a : hot).append('"');
      if (events.length() > 0) events.append(',');
      events.append("{\"type\":\"message\",\"account_ids\":[").append(accounts).append("],\"session_id\":\"s-").append(hot)
          .append("\",\"session_kind\":\"group\",\"title\":\"Load\",\"seq\":").append(round)
          .append(",\"sender_id\":\"x\",\"preview\":\"hi\",\"ts\":").append(System.currentTimeMillis()).append('}');
    }
    api.post("/v1/ingest", Api.serviceToken(), "{\"events\":[" + events + "]}");
    for (int hot = 1; hot < 6; hot++) {
      for (int r = 0; r < hot; r++) api.post("/v1/sync", Api.deviceToken("load-" + hot, "d"), "{\"limit\": 10}");
    }
  }

  private static HttpResponse<String> fetch(String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + first.port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private void signIn(WebDriverWait wait, String token) {
    WebElement input = wait.until(d -> visible(d, By.id("token-input")));
    input.clear();
    input.sendKeys(token);
    browser.findElement(By.id("sign-in")).click();
  }

  private static WebElement visible(WebDriver d, By by) {
    List<WebElement> found = d.findElements(by);
    return !found.isEmpty() && found.get(0).isDisplayed() ? found.get(0) : null;
  }

  /** The whole page, beyond the window's height (Chromium's own capture, through chromedriver). */
  private void screenshot(Path file) throws Exception {
    // from the top, so the sticky header is drawn where it belongs
    long height = (Long) ((JavascriptExecutor) browser).executeScript(
        "window.scrollTo(0, 0); return Math.ceil(document.documentElement.scrollHeight)");
    // the whole window: the capture lays the page out without a scroll bar
    long width = (Long) ((JavascriptExecutor) browser).executeScript(
        "return window.innerWidth");
    Map<String, Object> shot = ((ChromeDriver) browser).executeCdpCommand("Page.captureScreenshot", Map.of(
        "format", "png", "captureBeyondViewport", true,
        "clip", Map.of("x", 0, "y", 0, "width", width, "height", height, "scale", 1)));
    byte[] png = Base64.getDecoder().decode((String) shot.get("data"));
    Files.createDirectories(file.getParent());
    Files.write(file, png);
    assertTrue(png.length > 10_000, "a screenshot of " + png.length + " bytes");
  }

  private static void awaitApi(String what, java.util.function.BooleanSupplier condition) {
    new FluentWait<>(condition).withTimeout(PATIENCE).pollingEvery(Duration.ofMillis(250))
        .withMessage(what)
        .until((Function<java.util.function.BooleanSupplier, Boolean>) c -> c.getAsBoolean());
  }
}
