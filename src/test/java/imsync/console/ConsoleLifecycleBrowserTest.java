package imsync.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.io.File;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console's part of API v1.2 in a real browser (Debian's headless Chromium) on one node: an operator
 * exports and erases an account from the account lookup, and the audit log card lists both actions
 * with the operator's name, as well as an action another operator took through the API meanwhile.
 */
@ExtendWith(LocalCassandra.class)
class ConsoleLifecycleBrowserTest {
  private static final Duration PATIENCE = Duration.ofSeconds(60);
  private static TestNode node;
  private static WebDriver browser;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start();
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary("/usr/bin/chromium");
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--window-size=1440,1000", "--user-data-dir=" + Files.createTempDirectory("imsync-console-lifecycle"));
    browser = new ChromeDriver(service, options);
  }

  @AfterAll
  static void stop() {
    if (browser != null) browser.quit();
    if (node != null) node.close();
  }

  private static WebElement visible(WebDriver d, By by) {
    List<WebElement> found = d.findElements(by);
    return !found.isEmpty() && found.get(0).isDisplayed() ? found.get(0) : null;
  }

  /** Whether the audit card lists the entry (rows are redrawn on every refresh: a row gone meanwhile is looked up again). */
  private static boolean auditShows(WebDriver d, String action, String target, String operator) {
    try {
      for (WebElement row : d.findElements(By.cssSelector("#audit tbody tr[data-action='" + action + "']"))) {
        if (target.equals(row.getAttribute("data-target")) && row.getText().contains(operator)) return true;
      }
      return false;
    } catch (StaleElementReferenceException redrawn) {
      return false;
    }
  }

  private static String newestAuditTarget(WebDriver d) {
    try {
      return d.findElements(By.cssSelector("#audit tbody tr")).get(0).getAttribute("data-target");
    } catch (StaleElementReferenceException redrawn) {
      return null;
    }
  }

  @Test
  void operatorExportsAndErasesAnAccountAndSeesBothInTheAuditLog() {
    Api api = node.api();
    String account = Api.uniqueAccount("console-erase");
    String sub = "console-op-" + System.nanoTime();
    String operator = Api.AUTH.issue("operator", sub, null, System.currentTimeMillis() / 1000 + 3600);
    api.message("dm:bob", 1, "bob", 1000, account);
    api.message("dm:carol", 1, "carol", 2000, account);

    browser.get("http://127.0.0.1:" + node.port + "/console");
    WebDriverWait wait = new WebDriverWait(browser, PATIENCE);
    WebElement input = wait.until(d -> visible(d, By.id("token-input")));
    input.sendKeys(operator);
    browser.findElement(By.id("sign-in")).click();
    wait.until(d -> visible(d, By.id("audit")));

    browser.findElement(By.id("account-id")).sendKeys(account);
    browser.findElement(By.id("account-lookup")).click();
    wait.until(d -> d.findElements(By.cssSelector("#account-stats dd[data-key='sessions']")).stream()
        .anyMatch(e -> e.getText().equals("2")));

    wait.until(d -> visible(d, By.id("account-export"))).click();
    wait.until(d -> d.findElement(By.id("lifecycle-msg")).getText().contains("2 sessions"));
    assertTrue(browser.findElement(By.id("export-link")).isDisplayed());
    wait.until(d -> auditShows(d, "account.export", account, sub));

    browser.findElement(By.id("account-erase")).click();
    wait.until(d -> visible(d, By.id("dialog-ok"))).click();
    wait.until(d -> d.findElement(By.id("lifecycle-msg")).getText().contains("erased: 2 stored events removed"));
    wait.until(d -> d.findElements(By.cssSelector("#account-stats dd[data-key='sessions']")).stream()
        .anyMatch(e -> e.getText().equals("0")));
    wait.until(d -> auditShows(d, "account.erase", account, sub));
    JsonNode export = api.get("/admin/accounts/" + account + "/export", Api.operatorToken()).body();
    assertEquals(0, export.get("sessions").size(), "the page's erasure erased the account");

    // another operator's action through the API shows up with the next refresh
    String other = "api-op-" + System.nanoTime();
    String otherAccount = Api.uniqueAccount("console-other");
    assertEquals(200, api.delete("/admin/accounts/" + otherAccount,
        Api.AUTH.issue("operator", other, null, System.currentTimeMillis() / 1000 + 3600)).status());
    wait.until(d -> auditShows(d, "account.erase", otherAccount, other));
    // newest first
    wait.until(d -> otherAccount.equals(newestAuditTarget(d)));
    // the lookup and audit cards as the operator saw them (target/console-lifecycle-*.png)
    for (String card : List.of("lookup", "audit")) {
      java.nio.file.Path file = LocalCassandra.projectDir().resolve("target/console-lifecycle-" + card + ".png");
      byte[] png = browser.findElement(By.cssSelector("." + card + "-card")).getScreenshotAs(org.openqa.selenium.OutputType.BYTES);
      try {
        Files.write(file, png);
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
      assertTrue(png.length > 2_000, card + " card screenshot: " + png.length + " bytes");
    }
  }
}
