package imsync.lifecycle;

import static imsync.testkit.Api.assertError;
import static imsync.testkit.Api.operatorToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import imsync.audit.AuditLog;
import imsync.http.AdminRoutes;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The operators' audit log (API v1.2) on the test Cassandra: every /admin write and every export is
 * recorded with the operator token's sub, the action, its target and the time, in order; refused writes
 * are not; pages of any size, even of one entry among many of the same millisecond, lose and repeat
 * nothing; and the log outlives the node.
 */
@ExtendWith(LocalCassandra.class)
class AuditLogTest {
  private static TestNode node;
  private static Api api;

  @BeforeAll
  static void start() {
    node = TestNode.start();
    api = node.api();
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
  }

  private static String operator(String sub) {
    return Api.AUTH.issue("operator", sub, null, System.currentTimeMillis() / 1000 + 3600);
  }

  /** Every entry after {@code after} of these operators, paging with {@code limit}. */
  private static List<JsonNode> entries(long after, int limit, String... operators) {
    List<JsonNode> all = new ArrayList<>();
    long from = after;
    for (int page = 0; page < 10_000; page++) {
      Api.Response r = api.get("/admin/audit?after=" + from + "&limit=" + limit, operatorToken());
      assertEquals(200, r.status(), r.raw().body());
      JsonNode entries = r.body().get("entries");
      for (JsonNode e : entries) {
        assertTrue(e.get("ts").asLong() > from, "an entry at or before after=" + from + ": " + e);
        if (List.of(operators).contains(e.get("operator").asText())) all.add(e);
      }
      if (entries.isEmpty()) {
        assertEquals(from, r.body().get("next").asLong(), "an empty page keeps after");
        return all;
      }
      from = r.body().get("next").asLong();
      assertEquals(entries.get(entries.size() - 1).get("ts").asLong(), from);
    }
    throw new AssertionError("paging never ended");
  }

  private static List<String> actions(List<JsonNode> entries) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : entries) out.add(e.get("operator").asText() + " " + e.get("action").asText() + " " + e.get("target").asText());
    return out;
  }

  @Test
  void everyAdminWriteAndExportIsRecordedWithWhoWhatAndWhen() {
    long t0 = System.currentTimeMillis() - 1;
    String alice = "alice-" + System.nanoTime();
    String bob = "bob-" + System.nanoTime();
    String account = Api.uniqueAccount("audited");
    api.message("dm:x", 1, "x", 1000, account);

    assertEquals(200, api.get("/admin/accounts/" + account + "/export", operator(alice)).status());
    Api.Response erased = api.delete("/admin/accounts/" + account, operator(bob));
    assertEquals(200, erased.status(), erased.raw().body());
    String self = api.get("/admin/cluster", operatorToken()).body().get("self").asText();
    String shard = AdminRoutes.shardOf(account, 300);
    assertEquals(200, api.post("/admin/shards/" + shard + "/move", operator(alice), "{\"to\": \"" + self + "\"}").status());
    assertEquals(200, api.post("/admin/rebalance", operator(bob), "{}").status());
    // refused writes are not recorded
    assertError(api.post("/admin/shards/" + shard + "/move", operator(alice), "{\"to\": \"akka://imsync@127.0.0.1:1\"}"), 400,
        "invalid_request");
    String selfEncoded = java.net.URLEncoder.encode(self, java.nio.charset.StandardCharsets.UTF_8);
    assertError(api.post("/admin/members/" + selfEncoded + "/down", operator(alice), null), 409, "conflict");
    long t1 = System.currentTimeMillis();

    List<JsonNode> log = entries(t0, 100, alice, bob);
    assertEquals(List.of(
        alice + " account.export " + account,
        bob + " account.erase " + account,
        alice + " shard.move " + shard,
        bob + " cluster.rebalance by=count"), actions(log));
    assertEquals("events=1", log.get(1).get("detail").asText());
    assertEquals("to=" + self, log.get(2).get("detail").asText());
    long previous = t0;
    for (JsonNode e : log) {
      long ts = e.get("ts").asLong();
      assertTrue(ts > t0 && ts <= t1 && ts >= previous, "when: " + e);
      previous = ts;
    }
    assertEquals(actions(log), actions(entries(t0, 1, alice, bob)), "pages of one entry give the same log");
  }

  @Test
  void pagesLoseAndRepeatNothingAmongEntriesOfOneMillisecond() throws Exception {
    AuditLog audit = new AuditLog(node.system);
    String burst = "burst-" + System.nanoTime();
    long t0 = System.currentTimeMillis() - 1;
    List<java.util.concurrent.CompletableFuture<akka.Done>> writes = new ArrayList<>();
    for (int i = 0; i < 40; i++) writes.add(audit.record(burst, "account.export", "acc-" + i, null).toCompletableFuture());
    java.util.concurrent.CompletableFuture.allOf(writes.toArray(new java.util.concurrent.CompletableFuture[0])).get(30, TimeUnit.SECONDS);
    for (int limit : new int[] {1, 3, 1000}) {
      List<JsonNode> got = entries(t0, limit, burst);
      java.util.Set<String> targets = new java.util.HashSet<>();
      for (JsonNode e : got) targets.add(e.get("target").asText());
      assertEquals(40, got.size(), "limit " + limit + ": every entry once");
      assertEquals(40, targets.size(), "limit " + limit + ": no entry twice");
    }
  }

  @Test
  void theLogOutlivesTheNodeAndRefusesBadParametersAndOtherScopes() {
    String carol = "carol-" + System.nanoTime();
    long t0 = System.currentTimeMillis() - 1;
    String account = Api.uniqueAccount("durable-audit");
    assertEquals(200, api.delete("/admin/accounts/" + account, operator(carol)).status());
    node.close();
    node = TestNode.start();
    api = node.api();
    assertEquals(List.of(carol + " account.erase " + account), actions(entries(t0, 50, carol)));
    assertError(api.get("/admin/audit?after=-1", operatorToken()), 400, "invalid_request");
    assertError(api.get("/admin/audit?after=soon", operatorToken()), 400, "invalid_request");
    assertError(api.get("/admin/audit?limit=0", operatorToken()), 400, "invalid_request");
    assertError(api.get("/admin/audit", Api.deviceToken(account, "phone")), 403, "forbidden");
    assertError(api.get("/admin/audit", Api.serviceToken()), 403, "forbidden");
    assertError(api.get("/admin/audit", null), 401, "unauthorized");
  }
}
