package imsync.http;

import static imsync.testkit.Api.deviceToken;
import static imsync.testkit.Api.operatorToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Operators' view over real HTTP: Prometheus metrics on the management port, shard load, support views, members. */
@ExtendWith(LocalCassandra.class)
class OpsRoutesTest {
  private static TestNode node;
  private static Api api;
  private static int managementPort;

  @BeforeAll
  static void start() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      managementPort = s.getLocalPort();
    }
    node = TestNode.start(String.join("\n",
        "imsync.management.enabled = true",
        "akka.management.http.hostname = \"127.0.0.1\"",
        "akka.management.http.port = " + managementPort));
    api = node.api();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static String account() {
    return Api.uniqueAccount("ops");
  }

  private static String scrape() throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    return r.body();
  }

  private static JsonNode await(String path, java.util.function.Predicate<JsonNode> until) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      Api.Response r = api.get(path, operatorToken());
      assertEquals(200, r.status(), r.raw().body());
      if (until.test(r.body())) return r.body();
      if (System.nanoTime() > deadline) throw new AssertionError(path + " never satisfied the condition: " + r.raw().body());
      Thread.onSpinWait();
    }
  }

  @Test
  void metricsListEveryFamilyWithRouteTemplatesNotPaths() throws Exception {
    String a = account();
    String t = deviceToken(a, "phone");
    api.message("dm:metrics", 1, "bob", 1_764_400_000_000L, a);
    assertEquals(200, api.post("/v1/sync", t, "{}").status());
    assertEquals(200, api.get("/v1/sessions/dm:metrics", t).status());
    assertEquals(404, api.get("/v1/sessions/dm:nothing-here", t).status());
    assertEquals(413, api.post("/v1/sync", t, "{\"x\":\"" + "y".repeat(1_100_000) + "\"}").status());
    String text = scrape();
    for (String family : List.of("imsync_http_requests_seconds_bucket", "imsync_http_requests_seconds_count",
        "imsync_sync_sessions", "imsync_ingest_deliveries_total{outcome=\"accepted\"}",
        "imsync_ingest_deliveries_total{outcome=\"ignored\"}", "imsync_journal_write_seconds_count",
        "imsync_recovery_seconds_count", "imsync_active_accounts", "imsync_shards", "imsync_long_polls_waiting",
        "imsync_streams_open", "imsync_rejected_total{reason=\"rate_limited\"}", "imsync_rejected_total{reason=\"unavailable\"}",
        "imsync_rejected_total{reason=\"too_large\"}", "jvm_memory_used_bytes", "jvm_gc_", "jvm_threads_live_threads",
        "cassandra_session_cql_requests_seconds", "cassandra_nodes_pool_open_connections")) {
      assertTrue(text.contains(family), "no " + family + " in /metrics");
    }
    assertTrue(text.contains("route=\"/v1/sessions/{sid}\""), "the session route is labelled by its template");
    assertTrue(text.contains("route=\"/v1/ingest\""));
    assertTrue(text.lines().anyMatch(l -> l.startsWith("imsync_rejected_total{reason=\"too_large\"}") && !l.endsWith(" 0.0")),
        "the 413 was counted");
    assertFalse(text.contains(a), "no account id in any label");
    assertFalse(text.contains("dm:metrics"), "no session id in any label");
  }

  @Test
  void shardsShowTheShardOfAnAccountJustUsedWithItsRate() {
    String a = account();
    String t = deviceToken(a, "phone");
    api.message("dm:load", 1, "bob", 1_764_400_000_000L, a);
    for (int i = 0; i < 5; i++) assertEquals(200, api.post("/v1/sync", t, "{}").status());
    String shard = AdminRoutes.shardOf(a, 300);
    // the rate is folded in every 5 s: wait for the first fold
    JsonNode view = await("/admin/shards", body -> {
      for (JsonNode s : body.get("shards")) {
        if (s.get("shard_id").asText().equals(shard)) return s.get("requests_per_second").asDouble() > 0;
      }
      return false;
    });
    JsonNode entry = null;
    int previous = -1;
    for (JsonNode s : view.get("shards")) {
      int id = Integer.parseInt(s.get("shard_id").asText());
      assertTrue(id > previous, "sorted by shard id, each once");
      previous = id;
      if (s.get("shard_id").asText().equals(shard)) entry = s;
    }
    assertTrue(entry.get("active_accounts").asLong() >= 1);
    assertTrue(entry.get("ingest_per_second").asDouble() > 0, entry.toString());
    assertEquals(node.system.address().toString(), entry.get("node").asText());
    JsonNode member = view.get("members").get(0);
    assertTrue(member.get("answered").asBoolean());
    assertEquals("up", member.get("status").asText());
    assertTrue(member.get("shards").asInt() >= 1);
    assertTrue(member.get("requests_per_second").asDouble() > 0);

    JsonNode metrics = await("/admin/metrics", body -> body.get("members").get(0).get("requests_per_second").asDouble() > 0);
    JsonNode m = metrics.get("members").get(0);
    assertTrue(metrics.get("at").asLong() > 0);
    assertTrue(m.get("p99_ms").asDouble() > 0, m.toString());
    assertTrue(m.get("active_accounts").asLong() >= 1);
    assertTrue(m.has("long_polls_waiting") && m.has("streams_open") && m.has("ingest_per_second"));
  }

  @Test
  void historyListsTheSessionsEventsNewestFirst() {
    String a = account();
    String t = deviceToken(a, "phone");
    api.message("dm:bob", 5, "bob", 1_764_400_000_000L, a);
    api.message("dm:carol", 1, "carol", 1_764_400_001_000L, a);
    assertEquals(200, api.post("/v1/sessions/dm:bob/read", t, "{\"seq\": 5}").status());
    Api.Response r = api.get("/admin/accounts/" + a + "/sessions/dm:bob/history?limit=10", operatorToken());
    assertEquals(200, r.status(), r.raw().body());
    JsonNode events = r.body().get("events");
    assertEquals(2, events.size(), r.raw().body());
    assertEquals("read_marked", events.get(0).get("type").asText());
    assertEquals(5, events.get(0).get("seq").asLong());
    assertEquals(3, events.get(0).get("version").asLong());
    assertEquals("message_ingested", events.get(1).get("type").asText());
    assertEquals("bob", events.get(1).get("sender_id").asText());
    assertEquals(1, events.get(1).get("version").asLong());
    assertTrue(events.get(0).get("sequence_nr").asLong() > events.get(1).get("sequence_nr").asLong());
    assertEquals(1, r.body().get("scanned_from_sequence_nr").asLong());
    assertEquals(1, api.get("/admin/accounts/" + a + "/sessions/dm:bob/history?limit=1", operatorToken()).body()
        .get("events").size());
    assertEquals(400, api.get("/admin/accounts/" + a + "/sessions/dm:bob/history?limit=0", operatorToken()).status());
    assertEquals(403, api.get("/admin/accounts/" + a + "/sessions/dm:bob/history", t).status());
  }

  @Test
  void devicesOfAnAccountAfterItSynced() {
    String a = account();
    assertEquals(200, api.post("/v1/sync", deviceToken(a, "tablet"), "{}").status());
    Api.Response r = api.get("/admin/accounts/" + a + "/devices", operatorToken());
    assertEquals(200, r.status(), r.raw().body());
    assertEquals("tablet", r.body().get("devices").get(0).get("device_id").asText());
    assertTrue(r.body().has("version"));
  }

  @Test
  void leaveOrDownOfAnUnknownMemberIs404AndAMalformedAddress400() {
    String unknown = URLEncoder.encode("akka://imsync@127.0.0.1:1", StandardCharsets.UTF_8);
    Api.Response leave = api.post("/admin/members/" + unknown + "/leave", operatorToken(), null);
    assertEquals(404, leave.status(), leave.raw().body());
    assertEquals("not_found", leave.errorCode());
    assertEquals(404, api.post("/admin/members/" + unknown + "/down", operatorToken(), null).status());
    Api.Response malformed = api.post("/admin/members/not-an-address/leave", operatorToken(), null);
    assertEquals(400, malformed.status(), malformed.raw().body());
    String self = URLEncoder.encode(node.system.address().toString(), StandardCharsets.UTF_8);
    Api.Response downReachable = api.post("/admin/members/" + self + "/down", operatorToken(), null);
    assertEquals(409, downReachable.status(), "a reachable member is left, not downed");
  }

  @Test
  void rebalanceByLoadOrCount() {
    // a count plan first: on a node that just started the balancer may not have placed every shard yet
    Api.Response byCount = api.post("/admin/rebalance", operatorToken(), null);
    assertEquals(200, byCount.status(), byCount.raw().body());
    assertEquals("count", byCount.body().get("by").asText());
    Api.Response byLoad = api.post("/admin/rebalance", operatorToken(), "{\"by\": \"load\"}");
    assertEquals(200, byLoad.status(), byLoad.raw().body());
    assertEquals("load", byLoad.body().get("by").asText());
    assertEquals(0, byLoad.body().get("moved").asInt(), "one member, every shard placed: nowhere to move to");
    assertEquals(400, api.post("/admin/rebalance", operatorToken(), "{\"by\": \"luck\"}").status());
  }

  @Test
  void routeTemplatesMatchParsedPathsLikeStrings() {
    assertEquals("/v1/groups/{gid}/sessions", RouteTemplates.templateOf("/v1/groups/work/sessions"));
    assertEquals("/admin/accounts/{account_id}/sessions/{sid}/history",
        RouteTemplates.templateOf("/admin/accounts/alice/sessions/dm:bob/history"));
    assertEquals("/admin/members/{address}/leave", RouteTemplates.templateOf("/admin/members/akka%3A%2F%2Fimsync%40h%3A1/leave"));
    assertEquals(RouteTemplates.UNMATCHED, RouteTemplates.templateOf("/v1/sync/"));
    assertEquals(RouteTemplates.UNMATCHED, RouteTemplates.templateOf("/v1/groups//entries"));
    assertEquals(RouteTemplates.UNMATCHED, RouteTemplates.templateOf("/"));
    assertEquals("/v1/sync", RouteTemplates.templateOf("/v1/sync"));
  }
}
