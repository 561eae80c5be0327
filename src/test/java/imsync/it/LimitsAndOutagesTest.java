package imsync.it;

import static imsync.testkit.Api.deviceToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TcpRelay;
import imsync.testkit.TestNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * 429 with Retry-After once an account's bucket is empty; 503 with Retry-After when the account does not answer in
 * time; a node whose storage plugins start while Cassandra is away serves again once it is back.
 */
@ExtendWith(LocalCassandra.class)
class LimitsAndOutagesTest {

  @Test
  void rateLimitedDeviceGets429WithRetryAfter() {
    try (TestNode node = TestNode.start("imsync.rate-limit { per-second = 0.001, burst = 3 }")) {
      String t = deviceToken("busy-" + System.nanoTime(), "phone");
      Api api = node.api();
      for (int i = 0; i < 3; i++) assertEquals(200, api.get("/v1/groups", t).status());
      Api.Response r = api.get("/v1/groups", t);
      assertEquals(429, r.status());
      assertEquals("rate_limited", r.errorCode());
      assertTrue(Long.parseLong(r.raw().headers().firstValue("Retry-After").orElseThrow()) >= 1);
      assertEquals(200, api.get("/v1/groups", deviceToken("other-" + System.nanoTime(), "p")).status(), "per account");
    }
  }

  @Test
  void askTimeoutIs503WithRetryAfter() {
    try (TestNode node = TestNode.startUnready("imsync.ask-timeout = 1ms")) {
      Api.Response r = node.api().get("/v1/groups", deviceToken("slow-" + System.nanoTime(), "phone"));
      assertEquals(503, r.status());
      assertEquals("unavailable", r.errorCode());
      assertEquals("1", r.raw().headers().firstValue("Retry-After").orElseThrow());
    }
  }

  /**
   * The journal and the snapshot store start with the first account a node runs, and prepare their statements
   * then, once. A node that took its first account while Cassandra was unreachable (in CI: a Cassandra node
   * killed as shards moved to a new imsync node) kept those failed prepares and refused every write and recovery
   * until it was restarted. Here the node reaches Cassandra through a relay, its sessions connect, the relay is
   * cut before any account starts, and then healed: accounts must answer again, the one that met the outage too.
   */
  @Test
  void storageThatStartsDuringAnOutageServesOnceCassandraIsBack() throws Exception {
    String[] cassandra = LocalCassandra.contactPoint().split(":");
    int relayPort;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      relayPort = free.getLocalPort();
    }
    try (TcpRelay relay = new TcpRelay("127.0.0.1", relayPort, cassandra[0], Integer.parseInt(cassandra[1])).open();
         TestNode node = TestNode.startUnready("imsync.cassandra.contact-point = \"127.0.0.1:" + relayPort + "\"")) {
      var sessions = akka.stream.alpakka.cassandra.javadsl.CassandraSessionRegistry.get(node.system);
      for (String path : new String[] {"akka.persistence.cassandra", "imsync.snapshot-store.session"}) {
        sessions.sessionFor(path).underlying().toCompletableFuture().get(90, java.util.concurrent.TimeUnit.SECONDS);
      }
      relay.cut();
      String first = deviceToken("outage-first-" + System.nanoTime(), "phone");
      Api api = node.api();
      Api.Response during = api.get("/v1/groups", first);
      assertEquals(503, during.status(), "while Cassandra is away");
      assertEquals("unavailable", during.errorCode());
      relay.open();
      awaitOk(api, first);
      awaitOk(api, deviceToken("outage-next-" + System.nanoTime(), "phone"));
      String writer = "outage-writer-" + System.nanoTime();
      awaitStatus(() -> api.post("/v1/ingest", Api.serviceToken(), "{\"events\":[{\"type\":\"message\",\"account_ids\":[\"" + writer
          + "\"],\"session_id\":\"dm:bob\",\"seq\":1,\"sender_id\":\"bob\",\"preview\":\"hi\",\"ts\":1}]}").status());
    }
  }

  /** Asks until the account answers 200, for at most 60 s (each failed ask itself takes up to the ask timeout). */
  private static void awaitOk(Api api, String token) {
    awaitStatus(() -> api.get("/v1/groups", token).status());
  }

  private static void awaitStatus(java.util.function.IntSupplier status) {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    int last;
    do {
      last = status.getAsInt();
      if (last == 200) return;
    } while (System.nanoTime() < deadline);
    assertEquals(200, last, "60 s after Cassandra came back");
  }
}
