package imsync.it;

import static imsync.testkit.Api.deviceToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Acknowledged writes survive a restart of the service and, separately, of Cassandra; while Cassandra is
 * down the API answers 503 with Retry-After, never a 500.
 */
@ExtendWith(LocalCassandra.class)
class DurabilityTest {

  private static final int MANAGEMENT_PORT = 18601;

  /** Waits until Akka Management's /ready says {@code ready}. */
  private static void awaitReady(boolean ready) {
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      int status;
      try {
        status = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + MANAGEMENT_PORT + "/ready"))
            .timeout(java.time.Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
      } catch (Exception e) {
        status = -1;
      }
      if ((status == 200) == ready) return;
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // poll interval
    }
    throw new AssertionError("/ready never became " + (ready ? "ready" : "not ready"));
  }

  private static String snapshotOf(Api api, String token) {
    JsonNode sync = api.post("/v1/sync", token, "{\"limit\": 1000}").body();
    ((com.fasterxml.jackson.databind.node.ObjectNode) sync).remove("cursor");
    return sync.toString();
  }

  @Test
  void serviceRestartLosesNoAcknowledgedWrite() {
    String account = "durable-" + System.nanoTime();
    String t = deviceToken(account, "phone");
    String before;
    // snapshot.every = 5 so recovery goes through snapshot + events
    String config = "imsync.snapshot.every = 5";
    try (TestNode node = TestNode.start(config)) {
      Api api = node.api();
      for (int i = 1; i <= 12; i++) api.message("s" + (i % 3), i, "bob", 1000 + i, account);
      assertEquals(200, api.post("/v1/sessions/s1/read", t, "{\"seq\": 10}").status());
      assertEquals(200, api.post("/v1/groups", t, "{\"group_id\": \"work\", \"name\": \"Work\"}").status());
      assertEquals(200, api.put("/v1/groups/work/sessions/s2", t, null).status());
      assertEquals(200, api.put("/v1/sessions/s0/draft", t, "{\"text\": \"later\"}").status());
      assertEquals(200, api.delete("/v1/sessions/s0", t).status());
      before = snapshotOf(api, t);
    }
    try (TestNode node = TestNode.start(config)) {
      assertEquals(before, snapshotOf(node.api(), t));
      assertEquals(1, node.api().message("s0", 13, "bob", 5000, account).get("accepted").asInt(), "s0 comes back above its seq");
    }
  }

  @Test
  void cassandraRestartLosesNoAcknowledgedWriteAndOutageIs503() {
    String account = "outage-" + System.nanoTime();
    String t = deviceToken(account, "phone");
    // Akka Management on, so /ready (cluster membership + Cassandra) can be watched through the outage
    try (TestNode node = TestNode.start("imsync.management.enabled = true\nakka.management.http.port = " + MANAGEMENT_PORT)) {
      Api api = node.api();
      awaitReady(true);
      api.message("dm:bob", 1, "bob", 1000, account);
      assertEquals(200, api.put("/v1/sessions/dm:bob/mute", t, "{\"until\": 77}").status());
      String before = snapshotOf(api, t);

      long t0 = System.nanoTime();
      LocalCassandra.stop();
      System.out.printf("cassandra stopped after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
      Api.Response during = api.put("/v1/sessions/dm:bob/mute", t, "{\"until\": 88}");
      assertEquals(503, during.status(), during.raw().body());
      assertEquals("unavailable", during.errorCode());
      assertTrue(during.raw().headers().firstValue("Retry-After").isPresent());
      System.out.printf("503 after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
      awaitReady(false);
      LocalCassandra.start();
      System.out.printf("cassandra back after %d ms%n", (System.nanoTime() - t0) / 1_000_000);

      // a write that was refused may or may not have been stored; it was never acknowledged
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      Api.Response after;
      do {
        after = api.put("/v1/sessions/dm:bob/mute", t, "{\"until\": 99}");
      } while (after.status() != 200 && System.nanoTime() < deadline);
      assertEquals(200, after.status(), after.raw().body());
      System.out.printf("writes succeed again after %d ms (outage included)%n", (System.nanoTime() - t0) / 1_000_000);
      awaitReady(true);
      assertEquals(99, after.body().get("session").get("muted_until").asLong());
      assertEquals(1, after.body().get("session").get("last_message").get("seq").asLong());
      assertTrue(before.contains("\"muted_until\":77"));
    }
    try (TestNode node = TestNode.start()) {
      JsonNode s = node.api().get("/v1/sessions/dm:bob", t).body().get("session");
      assertEquals(99, s.get("muted_until").asLong());
    }
  }
}
