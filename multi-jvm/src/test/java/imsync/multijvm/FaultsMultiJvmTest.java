package imsync.multijvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TcpRelay;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fault suite (issue 16, {@code ./imsync test faults}): 3 imsync nodes on a 3-node Cassandra ring
 * (cassandra/bin/ring on 127.0.0.1-3, keyspaces at replication factor 3, LOCAL_QUORUM), under steady
 * ingest and sync traffic from several clients to every live node. One fault after the other, each
 * printed as {@code fault NAME: acked N, lost 0, 5xx other than 503: 0, back in X s}:
 * <ul>
 *   <li>{@code cassandra-node-kill}: kill -9 of one Cassandra node; service goes on (it is restarted after);
 *   <li>{@code cassandra-pause}: SIGSTOP of every Cassandra node for 20 s, then SIGCONT: 503 with Retry-After
 *       while paused, every account takes writes again within 30 s;
 *   <li>{@code partition}: imsync node 2 cut off from the other two for 30 s (its cluster traffic runs through
 *       {@link TcpRelay}s, cut), then healed: the split brain resolver downs it, the journal of every test
 *       account has no sequence number twice (two writers), nothing acknowledged is lost;
 *   <li>{@code kill-busiest-node}: kill -9 of the node owning the most test accounts (at least a third of
 *       them), failover within 12 s.
 * </ul>
 * "back in" is the time from the fault (kill, SIGCONT, cut) until every test account accepted a write.
 * {@code -Dimsync.faults=a,b} runs only those faults (default: all). Every fault runs even when an earlier
 * one failed (the cluster is repaired in between); the test then fails naming each failed fault.
 *
 * <p>Own ports (HTTP 18180+, remoting 28620+, management 18658+, ring CQL {@code imsync.faults.cassandra.port},
 * 19542 by default): it runs beside the other multi-jvm tests' fixed ports.
 */
class FaultsMultiJvmTest {
  private static final int ACCOUNTS = 24;
  private static final int CLIENTS = 4;
  private static final int RING_NODES = 3;
  private static final int RING_CQL = Integer.getInteger("imsync.faults.cassandra.port", 19542);
  private static final int HTTP_BASE = 18180;
  private static final int REMOTE_BASE = 28620;
  private static final int MANAGEMENT_BASE = 18658;
  /** The node the partition cuts off; its cluster traffic to and from the others runs through relays. */
  private static final int ISOLATED = 2;
  private static final List<String> ALL_FAULTS = List.of("cassandra-node-kill", "cassandra-pause", "partition", "kill-busiest-node");
  private static final Duration PAUSE = Duration.ofSeconds(20);
  private static final Duration PARTITION = Duration.ofSeconds(30);
  private static final String RUN = "ft" + System.currentTimeMillis() % 1_000_000 + "-";
  private static final String[] IDS = spreadIds();
  private static final String OP = Api.operatorToken();
  private static final Path DIR = LocalCassandra.projectDir();

  private static final List<NodeProcess> nodes = new CopyOnWriteArrayList<>();
  private static final List<TcpRelay> relays = new ArrayList<>();
  private static NodeProcess.Layout layout;
  private static boolean ringStartedHere;
  private static Traffic traffic;
  private static final long[] probeSeqs = new long[ACCOUNTS];

  /** Account ids whose shards spread over the whole shard range, hence over every node. */
  private static String[] spreadIds() {
    String[] ids = new String[ACCOUNTS];
    boolean[] taken = new boolean[ACCOUNTS];
    int found = 0;
    for (int j = 0; found < ACCOUNTS; j++) {
      String id = RUN + j;
      int bucket = Integer.parseInt(imsync.http.AdminRoutes.shardOf(id, 300)) * ACCOUNTS / 300;
      if (!taken[bucket]) {
        taken[bucket] = true;
        ids[found++] = id;
      }
    }
    return ids;
  }

  @BeforeAll
  static void startRingAndCluster() throws IOException {
    ringStartedHere = !cqlAnswers(1);
    ring("start");
    Path hostsDir = DIR.resolve("target/multi-jvm");
    Files.createDirectories(hostsDir);
    // Nodes 0 and 1 reach node 2 at 127.0.0.102, node 2 reaches them at 127.0.0.100 and .101: relays to the
    // real ports on 127.0.0.1. Everything else (HTTP, Cassandra) is direct.
    for (int i = 0; i < 3; i++) {
      StringBuilder hosts = new StringBuilder("127.0.0.1 localhost\n");
      for (int j = 0; j < 3; j++) {
        boolean relayed = (i == ISOLATED) != (j == ISOLATED);
        hosts.append(relayed ? "127.0.0." + (100 + j) : "127.0.0.1").append(" imsync-node-").append(j).append('\n');
      }
      Files.writeString(hostsDir.resolve("faults-hosts-" + i), hosts);
    }
    for (int j = 0; j < 3; j++) relays.add(new TcpRelay("127.0.0." + (100 + j), REMOTE_BASE + j, "127.0.0.1", REMOTE_BASE + j).open());
    layout = new NodeProcess.Layout(HTTP_BASE, REMOTE_BASE, MANAGEMENT_BASE, ringContactPoints(), 3, "faults-node-",
        i -> hostsDir.resolve("faults-hosts-" + i));
    // the first node alone first: on a fresh ring it creates the keyspaces and tables
    NodeProcess first = new NodeProcess(0, layout).start();
    nodes.add(first);
    first.awaitReady(Duration.ofSeconds(180));
    String warmUp = Api.deviceToken(RUN + "warm-up", "test");
    NodeProcess.await(() -> first.api().get("/v1/groups", warmUp).status() == 200, Duration.ofSeconds(180), "the journal schema");
    for (int i = 1; i < 3; i++) nodes.add(new NodeProcess(i, layout).start());
    for (NodeProcess n : nodes) n.awaitReady(Duration.ofSeconds(180));
    NodeProcess.await(() -> upMembers(nodes.get(0)) == 3, Duration.ofSeconds(90), "three up members");
    traffic = new Traffic();
    traffic.start();
    NodeProcess.await(() -> traffic.acked.size() == ACCOUNTS, Duration.ofSeconds(120), "every account to take a write");
    assertKeyspacesKeepThreeCopies();
  }

  /**
   * Every keyspace the nodes created keeps 3 copies in the ring's datacenter, whichever part of a node created
   * it first: the audit log once created the journal's with one, and the kill of a ring node then took the
   * third of the accounts whose only copy it held (CI saw it twice as accounts that took no write).
   */
  private static void assertKeyspacesKeepThreeCopies() {
    try (CqlSession session = CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", RING_CQL))
        .withLocalDatacenter("datacenter1").build()) {
      for (String keyspace : List.of("imsync", "imsync_snapshot")) {
        Row row = session.execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance(
            "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", keyspace)).one();
        assertTrue(row != null, "keyspace " + keyspace + " exists");
        Map<String, String> replication = row.getMap("replication", String.class, String.class);
        assertEquals("3", replication.get("datacenter1"), keyspace + " replication " + replication);
      }
    }
  }

  @AfterAll
  static void stopAll() {
    if (traffic != null) traffic.stop();
    for (NodeProcess n : nodes) if (n.alive()) n.kill9();
    for (TcpRelay r : relays) r.close();
    resumeRing(); // never leave a stopped Cassandra behind
    if (ringStartedHere) ring("stop");
  }

  @Test
  void faultsUnderTrafficLoseNothingAndServiceComesBack() {
    String chosen = System.getProperty("imsync.faults", "all").trim();
    List<String> faults = chosen.isEmpty() || chosen.equals("all") ? ALL_FAULTS : Arrays.stream(chosen.split(",")).map(String::trim).toList();
    for (String f : faults) assertTrue(ALL_FAULTS.contains(f), "unknown fault " + f + "; faults: " + ALL_FAULTS);
    Map<String, Throwable> failed = new LinkedHashMap<>();
    for (String fault : faults) {
      logMarks = markLogs();
      try {
        switch (fault) {
          case "cassandra-node-kill" -> cassandraNodeKill();
          case "cassandra-pause" -> cassandraPause();
          case "partition" -> partition();
          case "kill-busiest-node" -> killBusiestNode();
          default -> throw new AssertionError(fault);
        }
      } catch (Throwable t) {
        failed.put(fault, t);
        System.out.printf("fault %s: FAILED: %s%n", fault, t.getMessage());
        repair();
      }
    }
    assertTrue(failed.isEmpty(), "failed faults: " + failed);
  }

  // ------------------------------------------------------------------ the faults

  private static void cassandraNodeKill() {
    Window w = traffic.newWindow();
    long victim = ringPid(RING_NODES);
    long t0 = System.nanoTime();
    ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
    awaitExit(victim);
    double back = awaitFullService(t0, Duration.ofSeconds(60));
    // service goes on with one of three replicas gone: more writes are acknowledged while it is down
    long ackedBefore = w.acked.get();
    NodeProcess.await(() -> w.acked.get() >= ackedBefore + 2L * ACCOUNTS, Duration.ofSeconds(60), "writes with a Cassandra node down");
    ring("start-node", Integer.toString(RING_NODES));
    finish("cassandra-node-kill", w, back);
  }

  private static void cassandraPause() {
    Window w = traffic.newWindow();
    List<Long> pids = new ArrayList<>();
    for (int i = 1; i <= RING_NODES; i++) pids.add(ringPid(i));
    Window paused = traffic.newWindow();
    long pausedAtMillis = System.currentTimeMillis();
    signal("STOP", pids);
    long stoppedAt = System.nanoTime();
    // the fault's length, not a synchronization: the traffic meets a Cassandra that does not answer
    while (System.nanoTime() - stoppedAt < PAUSE.toNanos()) LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
    Window after = traffic.newWindow();
    signal("CONT", pids);
    long t0 = System.nanoTime();
    double back = awaitFullService(t0, Duration.ofSeconds(90));
    w.add(paused);
    w.add(after);
    System.out.printf("[faults] cassandra-pause: answers while paused %s, 503 without Retry-After %d%n", paused.statuses,
        paused.unavailableWithoutRetryAfter.get());
    assertTrue(paused.statuses.containsKey(503), "503 while Cassandra is paused: " + paused.statuses);
    assertEquals(0, paused.unavailableWithoutRetryAfter.get(), "503 without Retry-After while paused");
    assertTrue(back <= 30, "full service " + back + " s after SIGCONT (at most 30 s)");
    // a figure, not a criterion of this fault: a write that timed out while paused may land later, after the
    // restarted entity wrote its sequence number again (docs/topology.md, "What the suite found")
    System.out.printf("[faults] cassandra-pause: sequence numbers written twice since the pause: %d%n", journalDuplicates(pausedAtMillis));
    finish("cassandra-pause", w, back);
  }

  private static void partition() {
    Window w = traffic.newWindow();
    NodeProcess isolated = nodes.get(ISOLATED);
    NodeProcess majority = nodes.get(0);
    long cutAtMillis = System.currentTimeMillis();
    long t0 = System.nanoTime();
    for (TcpRelay r : relays) r.cut();
    // the majority serves every account again once the resolver has downed the isolated node
    double back = awaitFullService(t0, Duration.ofSeconds(60), List.of(majority, nodes.get(1)));
    NodeProcess.await(() -> !isolated.alive() || System.nanoTime() - t0 > PARTITION.toNanos(), PARTITION.plusSeconds(5),
        "the isolated node to down itself");
    boolean downedItself = !isolated.alive();
    while (System.nanoTime() - t0 < PARTITION.toNanos()) LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // the fault's length
    for (TcpRelay r : relays) r.open();
    System.out.printf("[faults] partition: isolated node %s %s%n", isolated.address(),
        downedItself ? "downed itself and exited" : "was still running when healed");
    assertTrue(downedItself, "the split brain resolver downs the isolated minority within the partition");
    NodeProcess.await(() -> upMembers(majority) == 2 && !memberListed(majority, isolated.address()), Duration.ofSeconds(30),
        "the majority to remove the isolated node");
    rejoin(ISOLATED);
    int duplicates = journalDuplicates(cutAtMillis);
    System.out.printf("[faults] partition: sequence numbers written twice since the cut in the journal of the %d test accounts: %d%n",
        ACCOUNTS, duplicates);
    assertEquals(0, duplicates, "two writers of one account: sequence numbers written twice");
    finish("partition", w, back);
  }

  private static void killBusiestNode() {
    NodeProcess via = nodes.get(0);
    // a node that rejoined after an earlier fault first gets its shards back from the balancer: kill once every
    // node owns test accounts, so the failover is measured apart from the rebalance that follows a rejoin
    Map<String, Integer> owned = new HashMap<>();
    NodeProcess.await(() -> {
      owned.clear();
      for (String id : IDS) owned.merge(owner(via, id), 1, Integer::sum);
      return owned.size() == nodes.size();
    }, Duration.ofSeconds(120), "every node to own test accounts");
    Window w = traffic.newWindow();
    String busiest = owned.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    NodeProcess victim = nodes.stream().filter(n -> n.address().equals(busiest)).findFirst().orElseThrow();
    int share = owned.get(busiest);
    System.out.printf("[faults] kill-busiest-node: owners of the %d test accounts %s; victim %s%n", ACCOUNTS, owned, busiest);
    assertTrue(share * 3 >= ACCOUNTS, "the victim owns at least a third of the test accounts: " + share + " of " + ACCOUNTS);
    traffic.avoid(victim);
    long t0 = System.nanoTime();
    victim.kill9();
    List<NodeProcess> survivors = nodes.stream().filter(n -> n != victim).toList();
    double back = awaitFullService(t0, Duration.ofSeconds(90), survivors);
    System.out.printf("[multi-jvm] failover after kill -9: %.1f s (the busiest node, %d of %d test accounts; goal <= 12 s)%n", back,
        share, ACCOUNTS);
    assertTrue(back <= 12, "failover " + back + " s (at most 12 s)");
    rejoin(victim.index);
    traffic.allow(victim);
    finish("kill-busiest-node", w, back);
  }

  /** Checks and prints a fault's line: every acknowledged write visible, no 5xx but 503, no hang. */
  private static void finish(String name, Window w, double backSeconds) {
    int lost = traffic.lostAcknowledged(nodes.get(0));
    long other5xx = w.statuses.entrySet().stream().filter(e -> e.getKey() >= 500 && e.getKey() != 503)
        .mapToLong(e -> e.getValue().get()).sum();
    System.out.printf("fault %s: acked %d, lost %d, 5xx other than 503: %d, back in %.1f s%n", name, w.acked.get(), lost, other5xx,
        backSeconds);
    System.out.printf("[faults] %s: answers %s, hangs %d, 503 without Retry-After %d%n", name, w.statuses, w.hangs.get(),
        w.unavailableWithoutRetryAfter.get());
    assertEquals(0, lost, name + ": acknowledged writes lost");
    assertEquals(0, other5xx, name + ": 5xx other than 503 " + w.statuses);
    assertEquals(0, w.hangs.get(), name + ": requests without an answer in 30 s");
    assertEquals(0, w.unavailableWithoutRetryAfter.get(), name + ": 503 without Retry-After");
    assertTrue(w.acked.get() > 0, name + ": writes acknowledged during the fault");
  }

  /** After a failed fault: Cassandra running, relays open, three nodes up, so the next fault starts whole. */
  private static void repair() {
    try {
      resumeRing();
      for (TcpRelay r : relays) r.open();
      ring("start");
      for (int i = 0; i < 3; i++) if (!nodes.get(i).alive()) rejoin(i);
      for (NodeProcess n : nodes) traffic.allow(n);
    } catch (Throwable t) {
      System.out.printf("[faults] repair after a failed fault failed: %s%n", t);
    }
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Seconds from {@code t0} until every test account accepted a write through one of {@code via}, within
   * {@code timeout}. Each account is sent a write every {@link #PROBE_EVERY} until one is acknowledged, without
   * waiting for the earlier ones: a write sent to a dead node's shard before the cluster noticed waits for its
   * ask timeout, but the account may take a later one at once. Each account's writes go through the nodes in turn.
   * The figure is the last account's first 200. When an account took none, the failure names for each such account
   * its last answer through every node, where it and its shard live, and the node log lines about it since the
   * fault started ({@link #explainStuck}).
   */
  private static double awaitFullService(long t0, Duration timeout, List<NodeProcess> via) {
    long deadline = System.nanoTime() + timeout.toNanos();
    java.util.concurrent.atomic.AtomicLongArray answeredAt = new java.util.concurrent.atomic.AtomicLongArray(ACCOUNTS);
    List<Map<String, String>> answers = new ArrayList<>();
    for (int a = 0; a < ACCOUNTS; a++) answers.add(new ConcurrentHashMap<>());
    long round = 0;
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (int a = 0; a < ACCOUNTS; a++) {
        if (answeredAt.get(a) != 0) continue;
        all = false;
        int account = a;
        // each account's probes go round every node in turn: one shared counter over the unanswered accounts sent
        // each account through the same node round after round whenever their number was a multiple of the nodes'
        probeAsync(a, via.get((int) ((a + round) % via.size())), answers.get(a)).thenAccept(ok -> {
          if (ok) answeredAt.compareAndSet(account, 0, System.nanoTime());
        });
      }
      if (all) break;
      round++;
      LockSupport.parkNanos(PROBE_EVERY.toNanos()); // the probes' cadence
    }
    List<Integer> stuck = new ArrayList<>();
    for (int a = 0; a < ACCOUNTS; a++) if (answeredAt.get(a) == 0) stuck.add(a);
    if (!stuck.isEmpty()) {
      // the summary first: a long failure message reaches CI's log cut in the middle
      StringBuilder why = new StringBuilder(nodeSummary(stuck));
      for (int a : stuck.subList(0, Math.min(3, stuck.size()))) {
        why.append(explainStuck(a, (System.nanoTime() - t0) / 1e9, answers.get(a), via));
      }
      System.out.print(why);
      fail(stuck.size() + " account(s) took no write within " + timeout.toSeconds() + " s:" + why);
    }
    long last = 0;
    for (int a = 0; a < ACCOUNTS; a++) last = Math.max(last, answeredAt.get(a));
    return (last - t0) / 1e9;
  }

  private static final Duration PROBE_EVERY = Duration.ofMillis(250);
  private static final java.net.http.HttpClient PROBES = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final java.time.format.DateTimeFormatter CLOCK = java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS")
      .withZone(java.time.ZoneId.systemDefault());

  /**
   * One write to the account's probe session (not the traffic's): whether it was acknowledged. Its answer (time,
   * status, body) or failure goes to {@code answers} under the node's index: the last one per node is kept.
   */
  private static java.util.concurrent.CompletableFuture<Boolean> probeAsync(int a, NodeProcess via, Map<String, String> answers) {
    long seq;
    synchronized (probeSeqs) {
      seq = ++probeSeqs[a];
    }
    String body = "{\"events\":[{\"type\":\"message\",\"account_ids\":[\"" + IDS[a] + "\"],\"session_id\":\"probe\",\"seq\":" + seq
        + ",\"sender_id\":\"peer\",\"preview\":\"p\",\"ts\":" + seq + "}]}";
    java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + via.httpPort + "/v1/ingest"))
        .timeout(Duration.ofSeconds(15)).header("Authorization", "Bearer " + Api.serviceToken()).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build();
    String sentAt = CLOCK.format(java.time.Instant.now());
    return PROBES.sendAsync(request, java.net.http.HttpResponse.BodyHandlers.ofString()).handle((r, failure) -> {
      String answer = failure != null ? "no answer (" + failure + ")" : r.statusCode() + " " + abbreviate(r.body(), 300);
      answers.put("node " + via.index, "seq " + seq + " sent " + sentAt + ", answered " + CLOCK.format(java.time.Instant.now()) + ": " + answer);
      return failure == null && r.statusCode() == 200;
    });
  }

  private static String abbreviate(String s, int max) {
    String one = s.replace('\n', ' ');
    return one.length() <= max ? one : one.substring(0, max) + "...";
  }

  /**
   * Why account {@code a} took no write: its last probe answers by node, where its shard runs and who answers for
   * it (asked once on every live node), and the node log lines since the fault that name the account or its shard.
   */
  private static String explainStuck(int a, double secondsSinceFault, Map<String, String> answers, List<NodeProcess> via) {
    String id = IDS[a];
    String shard = imsync.http.AdminRoutes.shardOf(id, 300);
    StringBuilder b = new StringBuilder(String.format("%n[faults] stuck account %s (shard %s), %.1f s after the fault, probes through %s%n",
        id, shard, secondsSinceFault, via.stream().map(n -> "node " + n.index).toList()));
    new java.util.TreeMap<>(answers).forEach((node, answer) -> b.append("[faults]   last probe via ").append(node).append(": ")
        .append(answer).append('\n'));
    for (NodeProcess n : nodes) {
      if (!n.alive()) {
        b.append("[faults]   node ").append(n.index).append(": not running\n");
        continue;
      }
      b.append("[faults]   node ").append(n.index).append(" GET /admin/accounts/").append(id).append(": ")
          .append(quickGet(n, "/admin/accounts/" + id, node -> node.path("node").asText() + " (shard " + node.path("shard_id").asText() + ")"))
          .append("; /admin/shards: ").append(quickGet(n, "/admin/shards", node -> {
            for (JsonNode s : node.path("shards")) if (s.path("shard_id").asText().equals(shard)) return s.toString();
            return "shard " + shard + " runs on no node that answered";
          })).append('\n');
    }
    java.util.regex.Pattern mentions = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(id) + "(?![0-9])"
        + "|(?i)shard[^0-9,\\]]{0,3}" + shard + "(?![0-9])|/Account/" + shard + "(?![0-9])|rebalanc.*[\\[, ]" + shard + "[,\\]]");
    Map<Integer, List<String>> lines = logLinesByNode(logMarks, l -> mentions.matcher(l).find());
    lines.forEach((node, ls) -> {
      b.append("[faults]   faults-node-").append(node).append(".log since the fault, lines naming ").append(id).append(" or shard ")
          .append(shard).append(": ").append(ls.size()).append(ls.size() > 80 ? " (the last 80)" : "").append('\n');
      for (String l : ls.subList(Math.max(0, ls.size() - 80), ls.size())) b.append("[faults]     ").append(abbreviate(l, 400)).append('\n');
    });
    return b.toString();
  }

  /**
   * What the nodes say since the fault, in a few lines: the stuck accounts with the node each one's shard runs
   * on, each node's warnings and errors (alike lines counted once, digits aside), and its Cassandra driver's
   * figures (connections, requests in flight and queued, errors by Cassandra node) and account restarts.
   */
  private static String nodeSummary(List<Integer> stuck) {
    StringBuilder b = new StringBuilder("\n[faults] stuck:");
    NodeProcess asked = nodes.stream().filter(NodeProcess::alive).findFirst().orElse(null);
    Map<String, String> homes = new java.util.HashMap<>();
    if (asked != null) {
      quickGet(asked, "/admin/shards", node -> {
        for (JsonNode s : node.path("shards")) homes.put(s.path("shard_id").asText(), s.path("node").asText().replaceAll(".*@imsync-", "").replaceAll(":.*", ""));
        return "";
      });
    }
    for (int a : stuck) {
      String shard = imsync.http.AdminRoutes.shardOf(IDS[a], 300);
      b.append(' ').append(IDS[a]).append(" (shard ").append(shard).append(" on ").append(homes.getOrDefault(shard, "?")).append(')');
    }
    b.append('\n');
    java.util.regex.Pattern digits = java.util.regex.Pattern.compile("[0-9]+");
    Map<Integer, List<String>> warnings = logLinesByNode(logMarks, l -> l.contains(" WARN ") || l.contains(" ERROR "));
    warnings.forEach((node, ls) -> {
      Map<String, List<String>> alike = new java.util.LinkedHashMap<>();
      for (String l : ls) {
        String rest = l.length() > 13 ? l.substring(13) : l;
        alike.computeIfAbsent(abbreviate(digits.matcher(rest).replaceAll("#"), 120), k -> new ArrayList<>()).add(l);
      }
      b.append("[faults] node ").append(node).append(": ").append(ls.size()).append(" warnings and errors since the fault\n");
      alike.values().stream().limit(25).forEach(same -> b.append("[faults]   ").append(same.size()).append(" x, first: ")
          .append(abbreviate(same.get(0), 500)).append('\n'));
    });
    java.util.regex.Pattern driver = java.util.regex.Pattern.compile(
        "^(cassandra_session_(throttling|connected|cql_client)|cassandra_nodes_(pool|errors|retries)|imsync_account_restarts)");
    for (NodeProcess n : nodes) {
      if (!n.alive()) continue;
      b.append("[faults] node ").append(n.index).append(" /metrics:");
      try {
        // plain HTTP: the Api client checks answers against openapi.yaml, which leaves the management port out
        String body = PROBES.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + n.managementPort + "/metrics"))
            .timeout(Duration.ofSeconds(8)).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        for (String l : body.split("\n")) {
          if (!driver.matcher(l).find() || l.endsWith(" 0.0")) continue;
          b.append(' ').append(l.replaceAll("cassandra_|,?(class|profile|exception)=\"[^\"]*\"", "")).append(';');
        }
      } catch (IOException | InterruptedException | RuntimeException e) {
        b.append(" no answer (").append(e).append(')');
      }
      b.append('\n');
    }
    return b.toString();
  }

  /** One GET with a short timeout, for diagnostics: the status and {@code show} of the body, or why there was none. */
  private static String quickGet(NodeProcess n, String path, java.util.function.Function<JsonNode, String> show) {
    try {
      Api.Response r = n.api().call("GET", path, OP, null, Duration.ofSeconds(8));
      return r.status() + (r.status() == 200 && r.body() != null ? " " + show.apply(r.body()) : " " + abbreviate(r.raw().body(), 200));
    } catch (RuntimeException | AssertionError e) {
      return "no answer (" + e.getMessage() + ")";
    }
  }

  // ------------------------------------------------------------------ node logs

  /** Where each node's log ended when the current fault started (the logs are appended to across restarts). */
  private static volatile long[] logMarks = new long[3];

  private static Path nodeLog(int index) {
    return nodes.get(index).log();
  }

  private static long[] markLogs() {
    long[] marks = new long[3];
    for (int i = 0; i < 3; i++) {
      try {
        marks[i] = Files.exists(nodeLog(i)) ? Files.size(nodeLog(i)) : 0;
      } catch (IOException e) {
        marks[i] = 0;
      }
    }
    return marks;
  }

  /** The lines of node {@code i}'s log written since {@code marks} that {@code select}, by node. */
  private static Map<Integer, List<String>> logLinesByNode(long[] marks, java.util.function.Predicate<String> select) {
    Map<Integer, List<String>> byNode = new java.util.TreeMap<>();
    for (int i = 0; i < 3; i++) {
      List<String> selected = new ArrayList<>();
      try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(nodeLog(i).toFile(), "r")) {
        f.seek(Math.min(marks[i], f.length()));
        byte[] rest = new byte[(int) Math.min(Integer.MAX_VALUE - 16, f.length() - f.getFilePointer())];
        f.readFully(rest);
        for (String l : new String(rest, java.nio.charset.StandardCharsets.UTF_8).split("\n")) if (select.test(l)) selected.add(l);
      } catch (IOException e) {
        selected.add("(could not read " + nodeLog(i) + ": " + e + ")");
      }
      byNode.put(i, selected);
    }
    return byNode;
  }

  private static double awaitFullService(long t0, Duration timeout) {
    return awaitFullService(t0, timeout, nodes.stream().filter(NodeProcess::alive).toList());
  }

  private static void rejoin(int index) {
    NodeProcess fresh = new NodeProcess(index, layout).start();
    nodes.set(index, fresh);
    fresh.awaitReady(Duration.ofSeconds(120));
    NodeProcess other = nodes.get(index == 0 ? 1 : 0);
    NodeProcess.await(() -> upMembers(other) == 3, Duration.ofSeconds(90), "node " + index + " back");
  }

  private static String owner(NodeProcess via, String account) {
    String[] node = new String[1];
    NodeProcess.await(() -> {
      Api.Response r = via.api().get("/admin/accounts/" + account, OP);
      if (r.status() == 200) node[0] = r.body().get("node").asText();
      return r.status() == 200;
    }, Duration.ofSeconds(60), "the owner of " + account);
    return node[0];
  }

  private static int upMembers(NodeProcess via) {
    try {
      Api.Response r = via.api().get("/admin/cluster", OP);
      if (r.status() != 200) return -1;
      int up = 0;
      for (JsonNode m : r.body().get("members")) if (m.get("status").asText().equals("up")) up++;
      return up;
    } catch (IllegalStateException e) {
      return -1;
    }
  }

  private static boolean memberListed(NodeProcess via, String address) {
    Api.Response r = via.api().get("/admin/cluster", OP);
    if (r.status() != 200) return true;
    for (JsonNode m : r.body().get("members")) if (m.get("address").asText().equals(address)) return true;
    return false;
  }

  /**
   * Sequence numbers stored more than once in the test accounts' journals (two writers), read at quorum,
   * counting those whose later copy was written at or after {@code sinceMillis} (the rows' timeuuids).
   */
  private static int journalDuplicates(long sinceMillis) {
    try (CqlSession session = CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", RING_CQL))
        .withLocalDatacenter("datacenter1").build()) {
      PreparedStatement select = session.prepare(
          "SELECT sequence_nr, timestamp FROM imsync.messages WHERE persistence_id = ? AND partition_nr = ?");
      int duplicates = 0;
      for (String id : IDS) {
        Map<Long, Long> writtenAt = new HashMap<>();
        for (long partition = 0; partition < 2; partition++) {
          for (Row row : session.execute(select.bind("Account|" + id, partition).setConsistencyLevel(ConsistencyLevel.QUORUM))) {
            long at = Uuids.unixTimestamp(row.getUuid("timestamp"));
            Long other = writtenAt.put(row.getLong("sequence_nr"), at);
            if (other != null) {
              System.out.printf("[faults] %s: sequence number %d written at %s and at %s%n", id, row.getLong("sequence_nr"),
                  java.time.Instant.ofEpochMilli(other), java.time.Instant.ofEpochMilli(at));
              if (Math.max(other, at) >= sinceMillis) duplicates++;
            }
          }
        }
      }
      return duplicates;
    }
  }

  // ------------------------------------------------------------------ the ring

  private static String ringContactPoints() {
    StringBuilder s = new StringBuilder();
    for (int i = 1; i <= RING_NODES; i++) s.append(i > 1 ? "," : "").append("127.0.0.").append(i).append(':').append(RING_CQL);
    return s.toString();
  }

  private static boolean cqlAnswers(int node) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0." + node, RING_CQL), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static long ringPid(int node) {
    String out = ring("pid", Integer.toString(node)).trim();
    assertTrue(out.matches("\\d+"), "pid of ring node " + node + ": " + out);
    return Long.parseLong(out);
  }

  private static void resumeRing() {
    List<Long> pids = new ArrayList<>();
    for (int i = 1; i <= RING_NODES; i++) {
      try {
        pids.add(ringPid(i));
      } catch (Throwable t) {
        // not running: nothing to resume
      }
    }
    if (!pids.isEmpty()) signal("CONT", pids);
  }

  /** Runs cassandra/bin/ring with the suite's ports and data; returns its output. */
  private static String ring(String... args) {
    List<String> command = new ArrayList<>();
    command.add(DIR.resolve("cassandra/bin/ring").toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("CASSANDRA_RING_NODES", Integer.toString(RING_NODES));
    env.put("CASSANDRA_RING_DATA", DIR.resolve("target/cassandra-ring").toString());
    env.put("CASSANDRA_CQL_PORT", Integer.toString(RING_CQL));
    env.put("CASSANDRA_STORAGE_PORT", Integer.toString(RING_CQL - 2000 + 1));
    env.put("CASSANDRA_JMX_PORT", Integer.toString(RING_CQL - 2000 + 2));
    env.putIfAbsent("CASSANDRA_HEAP", "768m");
    // a restarted node replays its commit log and hints first: on a busy 2-core machine that took over 2 minutes
    env.putIfAbsent("CASSANDRA_WAIT_SECONDS", "300");
    try {
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes());
      int code = p.waitFor();
      Files.writeString(DIR.resolve("target/cassandra-ring-scripts.log"), String.join(" ", args) + "\n" + out,
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      if (code != 0) throw new IllegalStateException("cassandra/bin/ring " + String.join(" ", args) + " exited " + code + ":\n" + out);
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("could not run cassandra/bin/ring", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void signal(String signal, List<Long> pids) {
    // bash's own kill: no procps needed
    StringBuilder line = new StringBuilder("kill -" + signal);
    for (long pid : pids) line.append(' ').append(pid);
    List<String> command = List.of("bash", "-c", line.toString());
    try {
      int code = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
      assertEquals(0, code, String.join(" ", command));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void awaitExit(long pid) {
    NodeProcess.await(() -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true), Duration.ofSeconds(20), "process " + pid + " to exit");
  }

  // ------------------------------------------------------------------ traffic

  /** What the traffic met in one stretch of time. */
  static final class Window {
    final AtomicLong acked = new AtomicLong();
    final Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
    final AtomicLong hangs = new AtomicLong();
    final AtomicLong unavailableWithoutRetryAfter = new AtomicLong();

    void count(Api.Response r) {
      statuses.computeIfAbsent(r.status(), k -> new AtomicLong()).incrementAndGet();
      if (r.status() == 503 && r.raw().headers().firstValue("Retry-After").isEmpty()) unavailableWithoutRetryAfter.incrementAndGet();
    }

    /** Folds a later window into this one. */
    void add(Window o) {
      acked.addAndGet(o.acked.get());
      o.statuses.forEach((k, v) -> statuses.computeIfAbsent(k, x -> new AtomicLong()).addAndGet(v.get()));
      hangs.addAndGet(o.hangs.get());
      unavailableWithoutRetryAfter.addAndGet(o.unavailableWithoutRetryAfter.get());
    }
  }

  /** Clients that ingest into and sync every test account through every live node; remember what was acknowledged. */
  static final class Traffic {
    final Map<Integer, Long> acked = new ConcurrentHashMap<>();
    private final Set<Integer> avoided = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final long[] seqs = new long[ACCOUNTS];
    private volatile Window window = new Window();

    void start() {
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        Thread t = new Thread(() -> run(client), "faults-client-" + c);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
    }

    /** From now on, counts go to a new window. */
    Window newWindow() {
      window = new Window();
      return window;
    }

    void avoid(NodeProcess n) {
      avoided.add(n.index);
    }

    void allow(NodeProcess n) {
      avoided.remove(n.index);
    }

    private void run(int client) {
      long round = 0;
      while (running.get()) {
        round++;
        for (int a = client; a < ACCOUNTS && running.get(); a += CLIENTS) {
          NodeProcess n = pick(round + a);
          if (n == null) continue;
          long seq = ++seqs[a]; // one client per account: its sequence numbers rise
          Window w = window;
          try {
            Api.Response r = n.api().post("/v1/ingest", Api.serviceToken(), "{\"events\":[{\"type\":\"message\",\"account_ids\":[\""
                + IDS[a] + "\"],\"session_id\":\"s\",\"seq\":" + seq + ",\"sender_id\":\"peer\",\"preview\":\"m" + seq
                + "\",\"ts\":" + seq + "}]}");
            w.count(r);
            if (r.status() == 200) {
              acked.merge(a, seq, Math::max);
              w.acked.incrementAndGet();
            }
            w.count(n.api().post("/v1/sync", Api.deviceToken(IDS[a], "client-" + client), "{\"limit\": 10}"));
          } catch (IllegalStateException e) {
            if (e.getCause() instanceof java.net.http.HttpTimeoutException) w.hangs.incrementAndGet();
            // connection refused: a node that just died or is starting; nothing was acknowledged
          }
        }
      }
    }

    private NodeProcess pick(long i) {
      List<NodeProcess> live = new ArrayList<>();
      for (NodeProcess n : nodes) if (n.alive() && !avoided.contains(n.index)) live.add(n);
      return live.isEmpty() ? null : live.get((int) (i % live.size()));
    }

    /** Accounts whose highest acknowledged message is not visible through {@code via}. */
    int lostAcknowledged(NodeProcess via) {
      int lost = 0;
      for (Map.Entry<Integer, Long> e : Map.copyOf(acked).entrySet()) {
        String token = Api.deviceToken(IDS[e.getKey()], "verify");
        AtomicLong seen = new AtomicLong(-1);
        NodeProcess.await(() -> {
          Api.Response r = via.api().get("/v1/sessions/s", token);
          if (r.status() != 200) return false;
          seen.set(r.body().get("session").get("last_message").get("seq").asLong());
          return true;
        }, Duration.ofSeconds(60), "account to answer");
        if (seen.get() < e.getValue()) {
          lost++;
          System.out.printf("[faults] account %s: acknowledged seq %d but sees %d%n", IDS[e.getKey()], e.getValue(), seen.get());
        }
      }
      return lost;
    }

    void stop() {
      running.set(false);
      for (Thread t : threads) {
        try {
          t.join(40_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
