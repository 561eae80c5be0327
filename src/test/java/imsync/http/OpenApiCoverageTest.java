package imsync.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.OpenApiContract;
import imsync.testkit.OpenApiContract.Operation;
import imsync.testkit.TestNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * openapi.yaml and the server describe the same routes: the document's (method, path) pairs equal
 * {@link RouteTemplates#ALL}, and a running node routes every documented operation (none of them answers
 * "no route"), so neither the document nor RouteTemplates can drift from the real routes.
 */
@ExtendWith(LocalCassandra.class)
class OpenApiCoverageTest {
  /**
   * Documented (v1.1 and the operators' additions of issue 9) but not built on this branch yet. Each
   * entry must still answer "no route" (the test says when one lands); empty it as the features land.
   */
  static final Set<String> DOCUMENTED_NOT_YET_BUILT = Set.of();

  /** Path parameters the probes use: harmless values (unknown ids, a shard move without a target). */
  private static final Map<String, String> SAMPLES = Map.of(
      "session_id", "probe-session",
      "group_id", "probe-group",
      "account_id", "probe-account",
      "device_id", "probe-device",
      "shard_id", "0",
      "address", "akka%3A%2F%2Fimsync%40127.0.0.1%3A1",
      "file", "console.js");

  private static TestNode node;

  @BeforeAll
  static void start() {
    node = TestNode.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static String key(String method, String template) {
    return method + " " + OpenApiContract.normalize(template);
  }

  private static Set<String> documented() {
    return OpenApiContract.DOCUMENT.operations().stream().map(o -> key(o.method(), o.template()))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static Set<String> inCode() {
    return RouteTemplates.ALL.stream().map(r -> key(r.method(), r.template())).collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void documentAndRouteTemplatesNameTheSameRoutes() {
    Set<String> documented = documented();
    Set<String> built = inCode();
    Set<String> undocumented = new TreeSet<>(built);
    undocumented.removeAll(documented);
    Set<String> notBuilt = new TreeSet<>(documented);
    notBuilt.removeAll(built);
    notBuilt.removeAll(DOCUMENTED_NOT_YET_BUILT);
    Set<String> landed = new TreeSet<>(DOCUMENTED_NOT_YET_BUILT);
    landed.retainAll(built);
    Set<String> stale = new TreeSet<>(DOCUMENTED_NOT_YET_BUILT);
    stale.removeAll(documented);
    List<String> problems = new ArrayList<>();
    if (!undocumented.isEmpty()) problems.add("in RouteTemplates but not in openapi.yaml: " + undocumented);
    if (!notBuilt.isEmpty()) problems.add("in openapi.yaml but not in RouteTemplates: " + notBuilt);
    if (!landed.isEmpty()) problems.add("built now, remove from DOCUMENTED_NOT_YET_BUILT: " + landed);
    if (!stale.isEmpty()) problems.add("in DOCUMENTED_NOT_YET_BUILT but not in openapi.yaml: " + stale);
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  /** A route to probe: from the document, RouteTemplates, or both. */
  private record Probe(String method, String template, String scope, boolean hasBody) {}

  @Test
  void theNodeRoutesEveryDocumentedOperationAndEveryRouteTemplate() {
    Map<String, Probe> probes = new java.util.TreeMap<>();
    for (Operation op : OpenApiContract.DOCUMENT.operations()) {
      probes.put(key(op.method(), op.template()), new Probe(op.method(), op.template(), op.scope().orElse("none"), op.hasRequestBody()));
    }
    for (RouteTemplates.Route r : RouteTemplates.ALL) {
      // a route the document lacks (the test above names it) is still probed, with the scope its prefix implies
      String scope = r.template().startsWith("/admin") ? "operator" : r.template().equals("/v1/ingest") ? "service" : "device";
      probes.putIfAbsent(key(r.method(), r.template()), new Probe(r.method(), templateWithSampleNames(r.template()), scope, true));
    }
    String account = "probe-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Probe> e : probes.entrySet()) {
      Probe p = e.getValue();
      String path = concrete(p.template());
      String token = switch (p.scope()) {
        case "device" -> Api.deviceToken(account, "probe");
        case "service" -> Api.serviceToken();
        case "operator" -> Api.operatorToken();
        default -> null;
      };
      HttpResponse<String> r = send(p.method(), path, token, p.hasBody() ? "{}" : null);
      boolean noRoute = isNoRoute(r.statusCode(), r.body());
      if (DOCUMENTED_NOT_YET_BUILT.contains(e.getKey())) {
        if (!noRoute) problems.add(e.getKey() + " is routed now (" + r.statusCode() + "): remove it from DOCUMENTED_NOT_YET_BUILT");
      } else if (noRoute) {
        problems.add(e.getKey() + " is documented or in RouteTemplates, but the node answers: " + r.body());
      } else {
        try {
          Api.conforms(p.method(), path, r);
        } catch (AssertionError wrong) {
          problems.add(wrong.getMessage());
        }
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  /** RouteTemplates' parameter names ({gid}, {sid}) as the document's, so SAMPLES covers both. */
  private static String templateWithSampleNames(String template) {
    return template.replace("{gid}", "{group_id}").replace("{sid}", "{session_id}");
  }

  @Test
  void theDocumentIsServedWithoutATokenFromTheOneCopyInTheRepo() throws Exception {
    Api.Response r = node.api().get("/openapi.yaml", null);
    assertEquals(200, r.status());
    assertTrue(r.raw().headers().firstValue("Content-Type").orElse("").startsWith("application/yaml"));
    byte[] inRepo = Files.readAllBytes(LocalCassandra.projectDir().resolve("openapi.yaml"));
    assertArrayEquals(inRepo, r.raw().body().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    JsonNode root = OpenApiContract.DOCUMENT.root();
    assertEquals("3.1.0", root.path("openapi").asText());
  }

  private static String concrete(String template) {
    String path = template;
    for (Map.Entry<String, String> s : SAMPLES.entrySet()) path = path.replace("{" + s.getKey() + "}", s.getValue());
    if (path.contains("{")) throw new AssertionError("no sample value for a parameter of " + template + ": add one to SAMPLES");
    return path;
  }

  /** The answer of ApiRoutes' rejection handler when no route matches. */
  private static boolean isNoRoute(int status, String body) {
    if (status != 404) return false;
    try {
      return Api.JSON.readTree(body).path("error").path("message").asText("").startsWith("no route");
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static HttpResponse<String> send(String method, String path, String token, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) b.header("Authorization", "Bearer " + token);
    if (body != null) b.header("Content-Type", "application/json");
    try {
      return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(method + " " + path, e);
    }
  }
}
