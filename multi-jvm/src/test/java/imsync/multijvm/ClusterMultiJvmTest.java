package imsync.multijvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A real cluster of separate JVMs on one Cassandra, under continuous ingest and sync traffic sent to
 * every live node: an operator moves a shard, a node and then the oldest node are killed with SIGKILL, a
 * fourth node joins, and every node is restarted in turn. Throughout: every acknowledged ingest stays
 * visible, answers are 200 or 503 (never a 500, never a hang), and one node serves each account.
 */
@ExtendWith(LocalCassandra.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterMultiJvmTest {
  private static final int ACCOUNTS = 24;
  private static final String RUN = "mj" + System.currentTimeMillis() % 1_000_000 + "-";
  /** Account ids chosen so their shards spread over the whole shard range, hence over every node. */
  private static final String[] IDS = spreadIds();
  private static final String OP = Api.operatorToken();
  private static final List<NodeProcess> nodes = new CopyOnWriteArrayList<>();
  private static Traffic traffic;

  private static String[] spreadIds() {
    String[] ids = new String[ACCOUNTS];
    boolean[] bucketTaken = new boolean[ACCOUNTS];
    int found = 0;
    for (int j = 0; found < ACCOUNTS; j++) {
      String id = RUN + j;
      int bucket = Integer.parseInt(imsync.http.AdminRoutes.shardOf(id, 300)) * ACCOUNTS / 300;
      if (!bucketTaken[bucket]) {
        bucketTaken[bucket] = true;
        ids[found++] = id;
      }
    }
    return ids;
  }

  @BeforeAll
  static void startCluster() {
    // The first node alone first: on an empty Cassandra it creates the keyspaces and tables (dev/test
    // autocreate), which three nodes racing each other would make slow.
    NodeProcess first = new NodeProcess(0).start();
    nodes.add(first);
    first.awaitReady(Duration.ofSeconds(120));
    String warmUp = Api.deviceToken(RUN + "warm-up", "test");
    NodeProcess.await(() -> first.api().get("/v1/groups", warmUp).status() == 200, Duration.ofSeconds(180), "the journal schema");
    for (int i = 1; i < 3; i++) nodes.add(new NodeProcess(i).start());
    for (NodeProcess n : nodes) n.awaitReady(Duration.ofSeconds(120));
    NodeProcess.await(() -> upMembers(nodes.get(0)) == 3, Duration.ofSeconds(60), "three up members");
    traffic = new Traffic();
    traffic.start();
    NodeProcess.await(() -> traffic.acked.size() == ACCOUNTS, Duration.ofSeconds(120), "every account to take a write");
  }

  @AfterAll
  static void stopCluster() {
    if (traffic != null) traffic.stop();
    for (NodeProcess n : nodes) if (n.alive()) n.kill9();
  }

  @Test
  @Order(1)
  void operatorMovesAShardAndItsAccountsAnswerFromTheNewNodeWithFullState() {
    String account = IDS[0];
    JsonNode before = admin(nodes.get(0), account);
    String from = before.get("node").asText();
    String to = nodes.stream().map(NodeProcess::address).filter(a -> !a.equals(from)).findFirst().orElseThrow();
    long t0 = System.nanoTime();
    Api.Response move = nodes.get(1).api().post("/admin/shards/" + before.get("shard_id").asText() + "/move", OP,
        "{\"to\": \"" + to + "\"}");
    assertEquals(200, move.status(), move.raw().body());
    NodeProcess.await(() -> to.equals(adminOrNull(nodes.get(2), account, "node")), Duration.ofSeconds(60), "the shard to move");
    System.out.printf("[multi-jvm] shard %s moved %s -> %s in %d ms%n", before.get("shard_id").asText(), from, to,
        (System.nanoTime() - t0) / 1_000_000);
    traffic.verifyAllAcknowledgedVisible(nodes.get(0));
  }

  @Test
  @Order(2)
  void killingANodeLosesNoAcknowledgedWrite() {
    failOverAndRejoin(2, "a younger node");
  }

  @Test
  @Order(3)
  void killingTheOldestNodeLosesNoAcknowledgedWrite() {
    failOverAndRejoin(0, "the oldest node");
  }

  @Test
  @Order(4)
  void aFourthNodeGetsItsShareOfShards() {
    long t0 = System.nanoTime();
    NodeProcess fourth = new NodeProcess(3).start();
    nodes.add(fourth);
    fourth.awaitReady(Duration.ofSeconds(120));
    NodeProcess.await(() -> {
      JsonNode m = member(nodes.get(1), fourth.address());
      return m != null && m.get("planned_shards").asInt() >= 70 && m.get("shards").asInt() > 0;
    }, Duration.ofSeconds(90), "shards to rebalance onto the fourth node");
    JsonNode m = member(nodes.get(1), fourth.address());
    System.out.printf("[multi-jvm] 4th node: %d of 300 shards planned, %d active shards moved there, %d ms after it started%n",
        m.get("planned_shards").asInt(), m.get("shards").asInt(), (System.nanoTime() - t0) / 1_000_000);
    traffic.verifyAllAcknowledgedVisible(nodes.get(1));
  }

  @Test
  @Order(5)
  void rollingRestartUnderTrafficLosesNothingAndNeverAnswers500() {
    long t0 = System.nanoTime();
    for (int i = 0; i < nodes.size(); i++) {
      NodeProcess old = nodes.get(i);
      traffic.avoid(old);
      old.stop(); // SIGTERM: graceful hand-off
      NodeProcess fresh = new NodeProcess(old.index).start();
      nodes.set(i, fresh);
      fresh.awaitReady(Duration.ofSeconds(120));
      traffic.allow(fresh);
    }
    NodeProcess any = nodes.get(0);
    NodeProcess.await(() -> upMembers(any) == nodes.size(), Duration.ofSeconds(60), "all members up");
    System.out.printf("[multi-jvm] rolling restart of %d nodes in %d ms; answers during it: %s%n", nodes.size(),
        (System.nanoTime() - t0) / 1_000_000, traffic.statuses);
    awaitAllAnswer(any, Duration.ofSeconds(60));
    traffic.verifyAllAcknowledgedVisible(any);
    traffic.assertNoServerErrorsOrHangs();
  }

  /** Kills node {@code index} under traffic, checks the fail-over, then brings the node back into the cluster. */
  private static void failOverAndRejoin(int index, String what) {
    failOver(nodes.get(index), what);
    nodes.set(index, new NodeProcess(index).start());
    nodes.get(index).awaitReady(Duration.ofSeconds(120));
    NodeProcess other = nodes.get(index == 1 ? 0 : 1);
    NodeProcess.await(() -> upMembers(other) == 3, Duration.ofSeconds(60), "node " + index + " back");
  }

  /** Kills a node under traffic; every account answers again through the others within a bound we print. */
  private static void failOver(NodeProcess victim, String what) {
    NodeProcess survivor = nodes.stream().filter(n -> n != victim).findFirst().orElseThrow();
    long killedAt = System.nanoTime();
    traffic.avoid(victim);
    victim.kill9();
    awaitAllAnswer(survivor, Duration.ofSeconds(90));
    long recoveredMs = (System.nanoTime() - killedAt) / 1_000_000;
    System.out.printf("[multi-jvm] SIGKILL of %s: all %d accounts answered again after %d ms%n", what, ACCOUNTS, recoveredMs);
    System.out.printf("[multi-jvm] failover after kill -9: %.1f s (%s; goal <= 12 s)%n", recoveredMs / 1000.0, what);
    traffic.verifyAllAcknowledgedVisible(survivor);
    // one node per account: every live node names the same owner
    for (int a = 0; a < ACCOUNTS; a++) {
      Set<String> owners = new HashSet<>();
      for (NodeProcess n : nodes) if (n != victim && n.alive()) owners.add(adminOrNull(n, IDS[a], "node"));
      owners.remove(null);
      assertEquals(1, owners.size(), "account " + a + " served by " + owners);
    }
    traffic.assertNoServerErrorsOrHangs();
  }

  private static void awaitAllAnswer(NodeProcess via, Duration timeout) {
    NodeProcess.await(() -> {
      for (int a = 0; a < ACCOUNTS; a++) {
        if (via.api().get("/v1/groups", Api.deviceToken(IDS[a], "check")).status() != 200) return false;
      }
      return true;
    }, timeout, "every account to answer");
  }

  private static JsonNode admin(NodeProcess via, String account) {
    AtomicReference<JsonNode> body = new AtomicReference<>();
    NodeProcess.await(() -> {
      Api.Response r = via.api().get("/admin/accounts/" + account, OP);
      if (r.status() == 200) body.set(r.body());
      return r.status() == 200;
    }, Duration.ofSeconds(60), "the account's admin view");
    return body.get();
  }

  private static String adminOrNull(NodeProcess via, String account, String field) {
    Api.Response r = via.api().get("/admin/accounts/" + account, OP);
    return r.status() == 200 ? r.body().get(field).asText() : null;
  }

  private static int upMembers(NodeProcess via) {
    Api.Response r = via.api().get("/admin/cluster", OP);
    if (r.status() != 200) return -1;
    int up = 0;
    for (JsonNode m : r.body().get("members")) if (m.get("status").asText().equals("up")) up++;
    return up;
  }

  private static JsonNode member(NodeProcess via, String address) {
    Api.Response r = via.api().get("/admin/cluster", OP);
    if (r.status() != 200) return null;
    for (JsonNode m : r.body().get("members")) if (m.get("address").asText().equals(address)) return m;
    return null;
  }

  /** Ingest and sync against every live node in turn; remembers what was acknowledged. */
  static final class Traffic {
    final Map<Integer, Long> acked = new ConcurrentHashMap<>();
    final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    final AtomicLong hangs = new AtomicLong();
    final AtomicLong unavailableWithoutRetryAfter = new AtomicLong();
    private final Set<Integer> avoided = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final long[] seqs = new long[ACCOUNTS];

    void start() {
      for (int w = 0; w < 2; w++) {
        int worker = w;
        Thread t = new Thread(() -> run(worker), "traffic-" + w);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
    }

    void avoid(NodeProcess n) {
      avoided.add(n.index);
    }

    void allow(NodeProcess n) {
      avoided.remove(n.index);
    }

    private void run(int worker) {
      long round = 0;
      while (running.get()) {
        round++;
        for (int a = worker; a < ACCOUNTS && running.get(); a += 2) {
          NodeProcess n = pick(round + a);
          if (n == null) continue;
          long seq;
          synchronized (seqs) {
            seq = ++seqs[a];
          }
          try {
            Api.Response r = n.api().post("/v1/ingest", Api.serviceToken(), "{\"events\":[{\"type\":\"message\",\"account_ids\":[\""
                + IDS[a] + "\"],\"session_id\":\"s\",\"seq\":" + seq + ",\"sender_id\":\"peer\",\"preview\":\"m" + seq
                + "\",\"ts\":" + seq + "}]}");
            count(r);
            if (r.status() == 200) acked.merge(a, seq, Math::max);
            count(n.api().post("/v1/sync", Api.deviceToken(IDS[a], "traffic"), "{\"limit\": 10}"));
          } catch (IllegalStateException e) {
            if (e.getCause() instanceof java.net.http.HttpTimeoutException) hangs.incrementAndGet();
            // connection refused: a node that just died or is starting; nothing was acknowledged
          }
        }
      }
    }

    private void count(Api.Response r) {
      statuses.computeIfAbsent(r.status(), k -> new AtomicInteger()).incrementAndGet();
      if (r.status() == 503 && r.raw().headers().firstValue("Retry-After").isEmpty()) unavailableWithoutRetryAfter.incrementAndGet();
    }

    private NodeProcess pick(long i) {
      List<NodeProcess> live = new ArrayList<>();
      for (NodeProcess n : nodes) if (n.alive() && !avoided.contains(n.index)) live.add(n);
      return live.isEmpty() ? null : live.get((int) (i % live.size()));
    }

    void verifyAllAcknowledgedVisible(NodeProcess via) {
      Map<Integer, Long> snapshot = Map.copyOf(acked);
      for (Map.Entry<Integer, Long> e : snapshot.entrySet()) {
        String token = Api.deviceToken(IDS[e.getKey()], "verify");
        // One request both waits and reads: a second request could land during a hand-off and get a 503.
        AtomicLong seenSeq = new AtomicLong(-1);
        NodeProcess.await(() -> {
          Api.Response r = via.api().get("/v1/sessions/s", token);
          if (r.status() != 200) return false;
          seenSeq.set(r.body().get("session").get("last_message").get("seq").asLong());
          return true;
        }, Duration.ofSeconds(60), "account to answer");
        long seen = seenSeq.get();
        assertTrue(seen >= e.getValue(), "account " + e.getKey() + ": acknowledged seq " + e.getValue() + " but sees " + seen);
      }
    }

    void assertNoServerErrorsOrHangs() {
      for (Map.Entry<Integer, AtomicInteger> e : statuses.entrySet()) {
        assertTrue(e.getKey() == 200 || e.getKey() == 503, "status " + e.getKey() + " answered " + e.getValue() + " times");
      }
      assertEquals(0, hangs.get(), "requests that hung");
      assertEquals(0, unavailableWithoutRetryAfter.get(), "503 answers without Retry-After");
    }

    void stop() {
      running.set(false);
      for (Thread t : threads) {
        try {
          t.join(30_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
