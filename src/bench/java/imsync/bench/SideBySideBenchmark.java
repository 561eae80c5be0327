package imsync.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.bench.LoadClient.Phase;
import imsync.bench.LoadClient.Request;
import imsync.testkit.Api;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * imsync against its limits and its peer, in one run on one machine: the scenarios of the benchmark issues
 * (delta sync throughput with wrk against a plain static Akka HTTP ceiling, the node's own ceiling route and
 * a Redis inbox; checked delta rounds; scaling; first sync vs a folder-by-folder client; verify repair vs a
 * full resync; ingest vs raw Cassandra inserts; snapshot and recovery of the largest account; cold accounts;
 * memory). Prints a table and the goals, and writes {@code target/bench/side-by-side.json}.
 * Run: {@code ./imsync bench} (or {@code ./imsync bench quick} to try it out small).
 *
 * <p>Rounds of each scenario alternate between the systems, so machine noise hits them alike; figures are
 * medians over rounds with their min–max spread, and the first round of each is a warm-up, not counted.
 * Every answer is checked (a sync must bring exactly the sessions changed since its cursor); a failed
 * request or check counts as a failure and makes the run exit non-zero.
 */
public final class SideBySideBenchmark {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long T0 = 1_764_400_000_000L;
  static final String PEER = "/bench/redis";

  /**
   * Scale of the fixed-size scenarios (1.0 = the sizes; smaller only for trying the benchmark out).
   * The hot scenario's account count is its own argument: see {@link #main}.
   */
  final double scale;
  final int hotAccounts;
  final int hotSessions = 200;
  /** Counted rounds of each alternating scenario (one warm-up round more) and the length of a wrk round. */
  final int rounds;
  final int roundSeconds;
  final int inFlight = 16;
  final BenchProcesses procs;
  final LoadClient client;
  final String service = Api.serviceToken();
  final ObjectNode report = JSON.createObjectNode();
  final List<String[]> table = new ArrayList<>();
  final List<String> failures = new ArrayList<>();
  /** The goals, one line each, printed after the table. */
  final List<String> goals = new ArrayList<>();
  /** The hot accounts' ids, device tokens and cursors ([0] imsync, [1] the Redis peer). */
  String[] hotIds;
  String[] hotTokens;
  String[][] hotCursors;

  SideBySideBenchmark(int hotAccounts, double scale, int rounds, int roundSeconds, BenchProcesses procs) {
    this.scale = scale;
    this.hotAccounts = hotAccounts;
    this.rounds = rounds;
    this.roundSeconds = roundSeconds;
    this.procs = procs;
    this.client = new LoadClient(procs.nodeBase(), procs);
  }

  /**
   * Arguments: {@code quick} (200 hot accounts, other scenarios at 0.1, 2 rounds of 3 s: tries the harness
   * out in a few minutes; its figures mean little), or [hot accounts (default 2,000, the size)]
   * [scale of the other scenarios (default 1.0)] [rounds (default 5)] [seconds per wrk round (default 10)].
   */
  public static void main(String[] args) throws Exception {
    boolean quick = args.length > 0 && args[0].equals("quick");
    int hot = quick ? 200 : args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
    double scale = quick ? 0.1 : args.length > 1 ? Double.parseDouble(args[1]) : 1.0;
    int rounds = quick ? 2 : args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int seconds = quick ? 3 : args.length > 3 ? Integer.parseInt(args[3]) : 10;
    long start = System.nanoTime();
    boolean failed;
    try (BenchProcesses procs = new BenchProcesses(quick ? "2g" : "8g")) {
      System.out.println("starting a fresh Cassandra, redis-server and an imsync node (target/bench) ...");
      procs.startCassandra();
      procs.startRedis();
      procs.startNode();
      SideBySideBenchmark b = new SideBySideBenchmark(hot, scale, rounds, seconds, procs);
      try {
        b.runAll();
      } catch (Exception | Error e) {
        b.failures.add("the run stopped: " + e);
        throw e;
      } finally {
        b.finish(start);
      }
      failed = !b.failures.isEmpty();
    }
    if (failed) System.exit(1); // after the processes are stopped
  }

  void runAll() throws Exception {
    report.put("date", Instant.now().toString());
    report.put("machine", Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
        + System.getProperty("os.arch") + ", JDK " + System.getProperty("java.version") + ", node heap " + procs.nodeHeap);
    report.put("hot_accounts", hotAccounts);
    report.put("scale_of_other_scenarios", scale);
    report.put("rounds", rounds);
    report.put("wrk_round_seconds", roundSeconds);
    long heapBaseline = procs.nodeHeapUsedAfterGc();
    hotDeltaSync(heapBaseline);
    // right after the hot accounts' rounds: no account has been idle long enough to passivate meanwhile,
    // so the heap before and after the load differs only by the new accounts
    memoryOfLargeAccounts();
    throughput();
    scaling();
    snapshotOfLargest();
    relatedArt();
    verifyRepair();
    // ingest before the cold set: its 200 accounts passivating at once (each writing a snapshot) would
    // otherwise land in the middle of the ingest rounds
    ingest();
    ColdSet cold = coldPrepare();
    coldAccounts(cold);
  }

  // ---------------------------------------------------------------------------------------------------
  // 1. Hot delta sync vs the HTTP ceiling and the Redis peer (6: memory of the 200-session accounts)

  String hotId(int a) {
    return "h" + a;
  }

  /** Custom groups of session j of account a: 1 to 3 of f0..f3. */
  static List<String> groupsOf(int a, int j) {
    int mix = Math.floorMod(a * 31 + j * 17, 12);
    int count = 1 + mix % 3;
    List<String> gs = new ArrayList<>();
    for (int k = 0; k < count; k++) gs.add("f" + (mix / 3 + k) % 4);
    return gs;
  }

  void hotDeltaSync(long heapBaseline) throws Exception {
    int accounts = hotAccounts;
    String[] tokens = new String[accounts];
    for (int a = 0; a < accounts; a++) tokens[a] = Api.deviceToken(hotId(a), "hot");
    String[] ids = new String[accounts];
    for (int a = 0; a < accounts; a++) ids[a] = hotId(a);

    ObjectNode preload = report.putObject("preload");
    for (String prefix : List.of("", PEER)) {
      String who = prefix.isEmpty() ? "imsync" : "redis";
      long t0 = System.nanoTime();
      // sessions: 50 sessions x 250 accounts per ingest call, one message each (seq 1)
      List<String> bodies = new ArrayList<>();
      for (int a0 = 0; a0 < accounts; a0 += 250) {
        List<String> chunk = Arrays.asList(ids).subList(a0, Math.min(accounts, a0 + 250));
        for (int j0 = 0; j0 < hotSessions; j0 += 50) {
          List<String> events = new ArrayList<>();
          for (int j = j0; j < Math.min(hotSessions, j0 + 50); j++) events.add(message("c:" + j, 1, "u" + j, T0 + j * 1000L, chunk, null));
          bodies.add(ingestBody(events));
        }
      }
      Phase sessions = setup(who + " preload sessions", bodies.size(), 2, i -> new Request("POST", prefix + "/v1/ingest", service, bodies.get(i)));
      // f0 to f3 in this order for every account, so both systems give them the same positions
      Phase groups = null;
      for (int k = 0; k < 4; k++) {
        int g = k;
        Phase p = setup(who + " preload group f" + k, accounts, inFlight, i -> new Request("POST", prefix + "/v1/groups",
            tokens[i], "{\"group_id\":\"f" + g + "\",\"name\":\"Folder " + g + "\"}"));
        groups = groups == null ? p : groups;
      }
      Phase members = setup(who + " preload members", accounts * 4, inFlight, i -> {
        int a = i / 4;
        String g = "f" + i % 4;
        List<String> sids = new ArrayList<>();
        for (int j = 0; j < hotSessions; j++) if (groupsOf(a, j).contains(g)) sids.add("\"c:" + j + "\"");
        return new Request("PUT", prefix + "/v1/groups/" + g + "/sessions", tokens[a], "{\"sessions\":[" + String.join(",", sids) + "]}");
      });
      double secs = (System.nanoTime() - t0) / 1e9;
      ObjectNode p = preload.putObject(who);
      p.put("seconds", secs);
      p.put("session_deliveries_per_second", accounts * (double) hotSessions * 1e9 / sessions.wallNanos());
      p.put("group_creations_per_second", groups.perSecond());
      p.put("bulk_member_adds_per_second", members.perSecond());
      System.out.printf("preloaded %,d accounts x %d sessions into %s in %.1f s%n", accounts, hotSessions, who, secs);
    }

    // every device starts from a complete first sync (which also checks the preload is all there)
    String[][] cursors = new String[2][accounts];
    Map<Integer, ClientView>[] tracked = newTracked();
    for (int sys = 0; sys < 2; sys++) {
      String prefix = sys == 0 ? "" : PEER;
      int s = sys;
      Phase first = setup((sys == 0 ? "imsync" : "redis") + " first sync of every account", accounts, inFlight,
          i -> new Request("POST", prefix + "/v1/sync", tokens[i], "{\"limit\":1000}"), (i, status, body) -> {
            if (status != 200) return "status " + status;
            JsonNode r = read(body);
            if (r.get("has_more").asBoolean() || r.get("sessions").size() != hotSessions) {
              return "first sync of " + hotId(i) + " brought " + r.get("sessions").size() + " sessions, has_more " + r.get("has_more");
            }
            cursors[s][i] = r.get("cursor").asText();
            if (tracked[s].containsKey(i)) tracked[s].get(i).apply(r);
            return null;
          });
      if (sys == 0) report.putObject("first_sync_200_sessions").put("imsync_per_second", first.perSecond());
      else ((ObjectNode) report.get("first_sync_200_sessions")).put("redis_per_second", first.perSecond());
    }
    long heapHot = procs.nodeHeapUsedAfterGc();

    // rounds: ingest ~10 changes per account into both, then every account syncs once from its cursor
    List<Phase> imsync = new ArrayList<>();
    List<Phase> redis = new ArrayList<>();
    List<Phase> ingestImsync = new ArrayList<>();
    List<Phase> ingestRedis = new ArrayList<>();
    for (int r = 1; r <= rounds + 1; r++) {
      int round = r;
      List<String> bodies = roundIngest(round, ids);
      for (int sys = 0; sys < 2; sys++) {
        String prefix = sys == 0 ? "" : PEER;
        Phase in = setup((sys == 0 ? "imsync" : "redis") + " ingest, round " + round, bodies.size(), 2,
            i -> new Request("POST", prefix + "/v1/ingest", service, bodies.get(i)));
        if (round > 1) (sys == 0 ? ingestImsync : ingestRedis).add(in);
      }
      long[] sizes = new long[accounts];
      Phase[] roundSync = new Phase[2];
      for (int sys = 0; sys < 2; sys++) {
        String prefix = sys == 0 ? "" : PEER;
        int s = sys;
        Phase p = client.run((sys == 0 ? "imsync" : "redis") + " delta sync, round " + round, accounts, inFlight,
            i -> new Request("POST", prefix + "/v1/sync", tokens[i], "{\"cursor\":\"" + cursors[s][i] + "\",\"limit\":200}"),
            (i, status, body) -> {
              if (status != 200) return "status " + status;
              JsonNode resp = read(body);
              String wrong = checkDelta(resp, expectedChanges(i, round));
              if (wrong != null) return hotId(i) + ": " + wrong;
              cursors[s][i] = resp.get("cursor").asText();
              if (s == 0) sizes[i] = body.length;
              if (tracked[s].containsKey(i)) tracked[s].get(i).apply(resp);
              return null;
            });
        if (round > 1) (sys == 0 ? imsync : redis).add(p);
        roundSync[sys] = p;
        noteFailures(p);
      }
      long[] sorted = sizes.clone();
      Arrays.sort(sorted);
      System.out.printf("checked round %d%s: imsync %.0f/s, redis %.0f/s (Java client; %d-byte answers)%n", round, round == 1 ? " (warm-up)" : "",
          roundSync[0].perSecond(), roundSync[1].perSecond(), sorted[sorted.length / 2]);
    }
    hotIds = ids;
    hotTokens = tokens;
    hotCursors = cursors;
    // convergence (contract rule 1) of the tracked clients, against a fresh first sync of each system
    for (int sys = 0; sys < 2; sys++) checkConverged(sys == 0 ? "" : PEER, tracked[sys], tokens);
    compareSystems(tracked);

    ObjectNode s1 = report.putObject("hot_delta_sync");
    s1.put("accounts", accounts);
    s1.put("sessions_per_account", hotSessions);
    s1.put("changes_per_sync", 10);
    s1.put("in_flight", inFlight);
    s1.set("imsync", summary(imsync));
    s1.set("redis", summary(redis));
    s1.set("ingest_imsync", summary(ingestImsync));
    s1.set("ingest_redis", summary(ingestRedis));
    double[] toRedis = ratios(imsync, redis);
    s1.set("imsync_over_redis", spread(toRedis));
    row("1b checked delta rounds (" + accounts + " x 200, 10 changes; Java client, every answer checked)",
        "req/s, p50/p99 ms (the client's pace, not the server's)", fmtRate(imsync), fmtRate(redis) + " (redis)", fmtRatio(toRedis));

    // 6. memory: the node's heap after a full GC, before and after the hot accounts were loaded
    ObjectNode mem = report.putObject("memory");
    double per200 = (heapHot - heapBaseline) / (double) accounts;
    mem.put("heap_baseline_bytes", heapBaseline);
    mem.put("heap_with_hot_accounts_bytes", heapHot);
    mem.put("bytes_per_account_200_sessions", per200);
    mem.put("accounts_per_gib_200_sessions", (1L << 30) / per200);
  }

  /** The sessions of account a changed in round r: 10 consecutive ids, a different run every round. */
  Set<String> expectedChanges(int a, int round) {
    Set<String> out = new HashSet<>();
    for (int i = 0; i < 10; i++) out.add("c:" + Math.floorMod(a + round * 10 + i, hotSessions));
    return out;
  }

  /** One message to each changed session of each account (seq round+1), grouped in calls of 40 events. */
  List<String> roundIngest(int round, String[] ids) {
    List<List<String>> recipients = new ArrayList<>();
    for (int j = 0; j < hotSessions; j++) recipients.add(new ArrayList<>());
    for (int a = 0; a < ids.length; a++) {
      for (int i = 0; i < 10; i++) recipients.get(Math.floorMod(a + round * 10 + i, hotSessions)).add(ids[a]);
    }
    List<String> bodies = new ArrayList<>();
    List<String> events = new ArrayList<>();
    for (int j = 0; j < hotSessions; j++) {
      if (recipients.get(j).isEmpty()) continue;
      // every fifth change mentions the account, so mention counts move too
      List<String> mentions = j % 5 == 0 ? recipients.get(j) : null;
      events.add(message("c:" + j, round + 1, "u" + j, T0 + (round + 1) * 10_000_000L + j, recipients.get(j), mentions));
      if (events.size() == 40) {
        bodies.add(ingestBody(events));
        events = new ArrayList<>();
      }
    }
    if (!events.isEmpty()) bodies.add(ingestBody(events));
    return bodies;
  }

  /** Only what changed, in one batch: exactly the expected sessions, each once, nothing more to fetch. */
  static String checkDelta(JsonNode r, Set<String> expected) {
    if (r.get("has_more").asBoolean() || r.get("reset").asBoolean()) return "has_more/reset in a 10-change delta";
    Set<String> got = new HashSet<>();
    for (JsonNode s : r.get("sessions")) {
      if (!got.add(s.get("session_id").asText())) return "session " + s.get("session_id") + " twice in one batch";
    }
    if (!got.equals(expected)) return "expected sessions " + expected + " but got " + got;
    if (r.get("removed_sessions").size() > 0) return "unexpected removals " + r.get("removed_sessions");
    return null;
  }

  // ---------------------------------------------------------------------------------------------------
  // 1. Delta sync throughput with wrk: imsync, the node's own ceiling route and the Redis peer against
  //    plain static Akka HTTP in its own JVM, rounds alternating

  void throughput() throws Exception {
    int accounts = hotAccounts;
    // one more round of changes; every account's cursor from before it stays fixed, so each sync from
    // it repeats the same delta of 10 changed sessions for as long as wrk sends it
    int round = rounds + 2;
    List<String> bodies = roundIngest(round, hotIds);
    long[][] sizes = new long[2][accounts];
    for (int sys = 0; sys < 2; sys++) {
      String prefix = sys == 0 ? "" : PEER;
      String who = sys == 0 ? "imsync" : "redis";
      setup(who + " ingest of the repeatable delta", bodies.size(), 2, i -> new Request("POST", prefix + "/v1/ingest", service, bodies.get(i)));
      int s = sys;
      // each request line is checked once before wrk repeats it: exactly the 10 changed sessions
      Phase check = client.run(who + " check of the repeatable delta", accounts, inFlight,
          i -> new Request("POST", prefix + "/v1/sync", hotTokens[i], syncBody(hotCursors[s][i])), (i, status, body) -> {
            if (status != 200) return "status " + status;
            String wrong = checkDelta(read(body), expectedChanges(i, round));
            if (wrong != null) return hotId(i) + ": " + wrong;
            sizes[s][i] = body.length;
            return null;
          });
      noteFailures(check);
    }
    long[] sorted = sizes[0].clone();
    Arrays.sort(sorted);
    int bytes = (int) sorted[sorted.length / 2];
    long[] redisSorted = sizes[1].clone();
    Arrays.sort(redisSorted);

    Wrk wrk = new Wrk(procs.dir.resolve("wrk"), 1, 32);
    List<Wrk.Line> imsyncLines = new ArrayList<>();
    List<Wrk.Line> redisLines = new ArrayList<>();
    for (int a = 0; a < accounts; a++) {
      imsyncLines.add(new Wrk.Line(hotTokens[a], syncBody(hotCursors[0][a])));
      redisLines.add(new Wrk.Line(hotTokens[a], syncBody(hotCursors[1][a])));
    }
    int node = BenchProcesses.HTTP_PORT;
    // the static ceiling gets the very same request lines as imsync (it ignores them)
    List<Wrk.Target> targets = List.of(
        wrk.target("static", BenchProcesses.STATIC_CEILING_PORT, "/v1/sync", imsyncLines),
        wrk.target("imsync", node, "/v1/sync", imsyncLines),
        wrk.target("nometr", node, "/v1/sync", imsyncLines), // imsync with the metrics hook off (issue 9's cost)
        wrk.target("ceiling", node, "/bench/ceiling?bytes=" + bytes, imsyncLines),
        // the front end plus an ask through Cluster Sharding to a trivial entity: what any sharded read costs
        wrk.target("askceil", node, "/bench/ask-ceiling?bytes=" + bytes, imsyncLines),
        wrk.target("redis", node, PEER + "/v1/sync", redisLines));
    procs.startStaticCeiling(bytes);
    System.out.printf("throughput: %s, %d request lines (one per account, each a repeatable delta of 10 sessions), %d-byte answers "
        + "(redis peer: %d); %d rounds of %d s after a warm-up round, targets alternating%n",
        wrk.describe(), accounts, bytes, redisSorted[redisSorted.length / 2], rounds, roundSeconds);
    Map<String, List<Wrk.Result>> results = new java.util.LinkedHashMap<>();
    try {
      for (int r = 0; r <= rounds; r++) {
        Map<String, Wrk.Result> thisRound = new java.util.LinkedHashMap<>();
        for (Wrk.Target t : targets) {
          List<Wrk.Watched> watched = t.name().equals("static")
              ? List.of(new Wrk.Watched("static JVM", procs.staticCeilingPid()), new Wrk.Watched("cassandra", procs.cassandraPid()))
              : List.of(new Wrk.Watched("node", procs.nodePid()), new Wrk.Watched("cassandra", procs.cassandraPid()),
                  new Wrk.Watched("redis", procs.redisPid()));
          boolean hookOff = t.name().equals("nometr");
          if (hookOff) metricsHook(false);
          Wrk.Result res;
          try {
            res = wrk.run(t, roundSeconds, watched);
          } finally {
            if (hookOff) metricsHook(true);
          }
          thisRound.put(t.name(), res);
          System.out.printf("  %s%d %-7s %,9.0f req/s  p50 %6.2f ms  p99 %7.2f ms  %s -> limit: %s%s%n", r == 0 ? "warm-up " : "round ",
              r, t.name(), res.perSecond(), res.p50Ms(), res.p99Ms(), Wrk.sharesText(res), res.limit(),
              res.failures() == 0 ? "" : String.format("  FAILED: %d non-2xx, %d socket errors", res.non2xx(), res.socketErrors()));
          // a wrong answer always fails the run; in the warm-up round, a timeout of a JVM still compiling does not
          if (res.non2xx() > 0 || (r > 0 && res.socketErrors() > 0)) {
            failures.add("wrk " + t.name() + " round " + r + ": " + res.non2xx() + " non-2xx answers, " + res.socketErrors() + " socket errors");
          }
          if (r > 0) results.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(res);
        }
        double st = thisRound.get("static").perSecond();
        System.out.printf("  %s%d: imsync ÷ static %.2f, ceiling ÷ static %.2f, ask ceiling ÷ static %.2f, redis ÷ static %.2f, metrics on ÷ off %.3f%n",
            r == 0 ? "warm-up " : "round ", r, thisRound.get("imsync").perSecond() / st, thisRound.get("ceiling").perSecond() / st,
            thisRound.get("askceil").perSecond() / st, thisRound.get("redis").perSecond() / st, thisRound.get("imsync").perSecond() / thisRound.get("nometr").perSecond());
      }
    } finally {
      procs.stopStaticCeiling();
    }

    ObjectNode out = report.putObject("throughput_wrk");
    out.put("tool", wrk.describe());
    out.put("accounts", accounts);
    out.put("answer_bytes", bytes);
    out.put("redis_answer_bytes", redisSorted[redisSorted.length / 2]);
    out.put("round_seconds", roundSeconds);
    for (Map.Entry<String, List<Wrk.Result>> e : results.entrySet()) {
      ObjectNode t = out.putObject(e.getKey());
      t.set("per_second", spread(e.getValue().stream().mapToDouble(Wrk.Result::perSecond).sorted().toArray()));
      t.put("p50_ms", medianOf(e.getValue(), Wrk.Result::p50Ms));
      t.put("p99_ms", medianOf(e.getValue(), Wrk.Result::p99Ms));
      ArrayNode rs = t.putArray("rounds");
      for (Wrk.Result res : e.getValue()) {
        ObjectNode n = rs.addObject();
        n.put("per_second", res.perSecond());
        n.put("p50_ms", res.p50Ms());
        n.put("p99_ms", res.p99Ms());
        n.put("failures", res.failures());
        n.put("machine_busy", res.machineBusy());
        res.coreShares().forEach((k, v) -> n.put("cpu_" + k.replace(' ', '_'), v));
        n.put("limit", res.limit());
      }
    }
    List<Wrk.Result> st = results.get("static");
    double[] imsyncRatio = ratiosOf(results.get("imsync"), st);
    double[] ceilingRatio = ratiosOf(results.get("ceiling"), st);
    double[] redisRatio = ratiosOf(results.get("redis"), st);
    double[] askRatio = ratiosOf(results.get("askceil"), st);
    double[] imsyncOverAsk = ratiosOf(results.get("imsync"), results.get("askceil"));
    out.set("ask_ceiling_over_static", spread(askRatio));
    out.set("imsync_over_ask_ceiling", spread(imsyncOverAsk));
    out.set("imsync_over_static", spread(imsyncRatio));
    out.set("ceiling_over_static", spread(ceilingRatio));
    out.set("redis_over_static", spread(redisRatio));
    String scenario = String.format("1 delta sync, %s (%,d accounts x 200, delta of 10 sessions, %,d B answers)", wrk.describe(), accounts, bytes);
    String staticText = fmtWrk(st) + " (static Akka HTTP, own JVM)";
    row(scenario, "`POST /v1/sync` req/s [min–max], p50/p99 ms", fmtWrk(results.get("imsync")), staticText, "imsync ÷ static " + fmtRatio(imsyncRatio));
    row("", "`POST /bench/ceiling` (token, limiter, JSON body, static answer)", fmtWrk(results.get("ceiling")), staticText,
        "ceiling ÷ static " + fmtRatio(ceilingRatio));
    row("", "`POST /bench/ask-ceiling` (the same, plus an ask through sharding to a trivial entity)", fmtWrk(results.get("askceil")),
        staticText, "ask ceiling ÷ static " + fmtRatio(askRatio) + "; imsync ÷ ask ceiling " + fmtRatio(imsyncOverAsk));
    row("", "Redis peer `POST /bench/redis/v1/sync`", fmtWrk(results.get("redis")), staticText, "redis ÷ static " + fmtRatio(redisRatio));
    double[] hookRatio = ratiosOf(results.get("imsync"), results.get("nometr"));
    out.set("metrics_on_over_off", spread(hookRatio));
    row("", "`POST /v1/sync` with the metrics hook off (issue 9: cost of metrics)", fmtWrk(results.get("nometr")),
        "metrics on: " + fmtWrk(results.get("imsync")), "on ÷ off " + fmtRatio(hookRatio));
    row("", "what limits it (median round)", limitText(results.get("imsync")), limitText(st) + " (static)", "");
    long failed = results.values().stream().flatMap(List::stream).mapToLong(Wrk.Result::failures).sum();
    if (failed > 0) {
      goals.add(String.format("%-52s %s", "1 delta sync ÷ static ceiling (wrk)", "NOT MEASURED: " + failed + " requests failed in counted rounds"));
    } else {
      goal("1 delta sync ÷ static ceiling (wrk)", fmtRatio(imsyncRatio) + " (" + fmtWrk(results.get("imsync")) + "; limit: "
          + mostCommonLimit(results.get("imsync")) + "; a sharded ask alone reaches " + fmtRatio(askRatio) + " of static)", "≥ 0.80",
          median(imsyncRatio) >= 0.8);
    }
  }

  /** Turns the node's HTTP metrics hook off or on (bench route) for the metrics-cost rounds. */
  private void metricsHook(boolean on) {
    client.call(new LoadClient.Request("POST", "/bench/metrics-hook?on=" + on, null, null));
  }

  static String syncBody(String cursor) {
    return "{\"cursor\":\"" + cursor + "\",\"limit\":200}";
  }

  static double medianOf(List<Wrk.Result> rs, java.util.function.ToDoubleFunction<Wrk.Result> f) {
    double[] v = rs.stream().mapToDouble(f).sorted().toArray();
    return v.length == 0 ? Double.NaN : v[v.length / 2];
  }

  /** Round i of {@code a} over round i of {@code b} (the rounds ran next to each other), sorted. */
  static double[] ratiosOf(List<Wrk.Result> a, List<Wrk.Result> b) {
    double[] r = new double[Math.min(a.size(), b.size())];
    for (int i = 0; i < r.length; i++) r[i] = a.get(i).perSecond() / b.get(i).perSecond();
    Arrays.sort(r);
    return r;
  }

  static String fmtWrk(List<Wrk.Result> rs) {
    double[] v = rs.stream().mapToDouble(Wrk.Result::perSecond).sorted().toArray();
    return String.format("%,.0f/s [%,.0f–%,.0f], %.2f/%.2f ms", v[v.length / 2], v[0], v[v.length - 1],
        medianOf(rs, Wrk.Result::p50Ms), medianOf(rs, Wrk.Result::p99Ms));
  }

  /** The CPU shares of the round with the median rate, and what limited it. */
  static String limitText(List<Wrk.Result> rs) {
    List<Wrk.Result> byRate = rs.stream().sorted(java.util.Comparator.comparingDouble(Wrk.Result::perSecond)).toList();
    Wrk.Result m = byRate.get(byRate.size() / 2);
    return Wrk.sharesText(m) + "; limit: " + m.limit();
  }

  static String mostCommonLimit(List<Wrk.Result> rs) {
    Map<String, Long> counts = new java.util.TreeMap<>();
    for (Wrk.Result r : rs) counts.merge(r.limit(), 1L, Long::sum);
    return counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("?");
  }

  void goal(String what, String figure, String target, boolean met) {
    goals.add(String.format("%-52s %s; goal %s: %s", what, figure, target, met ? "met" : "NOT met"));
  }

  // ---------------------------------------------------------------------------------------------------
  // 2. Scaling: delta latency of 10 changes for accounts of 100 to 100,000 sessions

  /** The largest account of the scaling scenario (100,000 sessions at full size): snapshot and recovery. */
  String largest;
  int largestSessions;
  String largestCursor;

  void scaling() {
    ObjectNode out = report.putObject("scaling");
    int top = Math.max(10_000, (int) Math.round(100_000 * scale));
    int[] sizes = java.util.stream.IntStream.of(100, 1_000, 10_000, top).distinct().toArray();
    for (int size : sizes) {
      ObjectNode row = out.putObject(Integer.toString(size));
      for (String prefix : List.of("", PEER)) {
        String who = prefix.isEmpty() ? "imsync" : "redis";
        String account = "scale" + size;
        String token = Api.deviceToken(account, "d");
        List<String> bodies = sessionBodies(List.of(account), size, 1000);
        setup(who + " preload " + account, bodies.size(), 1, i -> new Request("POST", prefix + "/v1/ingest", service, bodies.get(i)));
        String[] cursor = {followToEnd(prefix, token, null)};
        int iterations = 23; // the first 3 are warm-up
        long[] lat = new long[iterations - 3];
        for (int it = 0; it < iterations; it++) {
          List<String> events = new ArrayList<>();
          for (int i = 0; i < 10; i++) {
            int j = (it * 37 + i * 7) % size;
            events.add(message("c:" + j, 2 + it, "u" + j, T0 + 1_000_000_000L + it * 100L + i, List.of(account), null));
          }
          client.call(new Request("POST", prefix + "/v1/ingest", service, ingestBody(events)));
          Phase p = client.run(who + " delta " + size, 1, 1, i -> new Request("POST", prefix + "/v1/sync", token,
              "{\"cursor\":\"" + cursor[0] + "\",\"limit\":200}"), (i, status, body) -> {
                if (status != 200) return "status " + status;
                JsonNode r = read(body);
                if (r.get("sessions").size() != 10) return "expected 10 sessions, got " + r.get("sessions").size();
                cursor[0] = r.get("cursor").asText();
                return null;
              });
          noteFailures(p);
          if (it >= 3) lat[it - 3] = p.latenciesNanos()[0];
        }
        Arrays.sort(lat);
        if (prefix.isEmpty() && size == top) {
          largest = account;
          largestSessions = size;
          largestCursor = cursor[0];
        }
        ObjectNode w = row.putObject(who);
        w.put("p50_ms", lat[lat.length / 2] / 1e6);
        w.put("p90_ms", lat[(int) (lat.length * 0.9)] / 1e6);
      }
    }
    StringBuilder im = new StringBuilder();
    StringBuilder rd = new StringBuilder();
    for (int size : sizes) {
      JsonNode r = out.get(Integer.toString(size));
      im.append(String.format("%s%.2f", im.length() == 0 ? "" : " / ", r.get("imsync").get("p50_ms").asDouble()));
      rd.append(String.format("%s%.2f", rd.length() == 0 ? "" : " / ", r.get("redis").get("p50_ms").asDouble()));
    }
    double growth = out.get(Integer.toString(top)).get("imsync").get("p50_ms").asDouble() / out.get("100").get("imsync").get("p50_ms").asDouble();
    out.put("imsync_growth_100_to_" + top, growth);
    row("2 delta latency, " + Arrays.stream(sizes).mapToObj(n -> String.format("%,d", n)).collect(java.util.stream.Collectors.joining(" / "))
        + " sessions", "p50 ms (one client)", im.toString(), rd + " (redis)", String.format("%.2fx growth", growth));
  }

  // ---------------------------------------------------------------------------------------------------

  /** Pages from {@code cursor} until has_more is false; returns the last cursor. */
  String followToEnd(String prefix, String token, String cursor) {
    String c = cursor;
    while (true) {
      JsonNode r = read(client.call(new Request("POST", prefix + "/v1/sync", token,
          c == null ? "{\"limit\":1000}" : "{\"cursor\":\"" + c + "\",\"limit\":1000}")));
      c = r.get("cursor").asText();
      if (!r.get("has_more").asBoolean()) return c;
    }
  }

  static String message(String sid, long seq, String sender, long ts, List<String> accounts, List<String> mentions) {
    StringBuilder b = new StringBuilder(64 + accounts.size() * 10);
    b.append("{\"type\":\"message\",\"account_ids\":[");
    for (int i = 0; i < accounts.size(); i++) b.append(i == 0 ? "\"" : ",\"").append(accounts.get(i)).append('"');
    b.append("],\"session_id\":\"").append(sid).append("\",\"session_kind\":\"group\",\"title\":\"Chat ").append(sid)
        .append("\",\"seq\":").append(seq).append(",\"sender_id\":\"").append(sender)
        .append("\",\"preview\":\"the quick brown fox jumps over the lazy dog\",\"ts\":").append(ts);
    if (mentions != null) {
      b.append(",\"mentions\":[");
      for (int i = 0; i < mentions.size(); i++) b.append(i == 0 ? "\"" : ",\"").append(mentions.get(i)).append('"');
      b.append(']');
    }
    return b.append('}').toString();
  }

  /** Ingest calls that give each of {@code accounts} sessions c:0 .. c:(sessions-1), {@code perCall} sessions a call. */
  static List<String> sessionBodies(List<String> accounts, int sessions, int perCall) {
    List<String> bodies = new ArrayList<>();
    for (int j0 = 0; j0 < sessions; j0 += perCall) {
      List<String> events = new ArrayList<>();
      for (int j = j0; j < Math.min(sessions, j0 + perCall); j++) events.add(message("c:" + j, 1, "u" + j, T0 + j, accounts, null));
      bodies.add(ingestBody(events));
    }
    return bodies;
  }

  static String ingestBody(List<String> events) {
    return "{\"events\":[" + String.join(",", events) + "]}";
  }

  static JsonNode read(byte[] body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalStateException("not JSON: " + new String(body, StandardCharsets.UTF_8), e);
    }
  }

  /** Setup steps retry a failed request (ingest and group calls are idempotent or answer 409 when repeated). */
  Phase setup(String name, int n, int inFlight, IntFunction<Request> requestOf) {
    return setup(name, n, inFlight, requestOf, (i, status, body) -> status == 200 || status == 409 ? null : "status " + status);
  }

  Phase setup(String name, int n, int inFlight, IntFunction<Request> requestOf, LoadClient.Check check) {
    Set<Integer> failed = ConcurrentHashMap.newKeySet();
    Phase p = client.run(name, n, inFlight, requestOf, (i, status, body) -> {
      String wrong = check.check(i, status, body);
      if (wrong != null) failed.add(i);
      return wrong;
    });
    for (int attempt = 0; attempt < 5 && !failed.isEmpty(); attempt++) {
      List<Integer> again = new ArrayList<>(failed);
      failed.clear();
      System.out.printf("  %s: retrying %d failed requests (%s)%n", name, again.size(), p.firstFailure());
      client.run(name + " (retry)", again.size(), inFlight, i -> requestOf.apply(again.get(i)), (i, status, body) -> {
        String wrong = check.check(again.get(i), status, body);
        if (wrong != null) failed.add(again.get(i));
        return wrong;
      });
    }
    if (!failed.isEmpty()) throw new IllegalStateException(name + ": " + failed.size() + " requests failed: " + p.firstFailure());
    return p;
  }

  void noteFailures(Phase p) {
    if (p.failures() > 0) {
      String f = p.name() + ": " + p.failures() + " of " + p.requests() + " failed; first: " + p.firstFailure();
      failures.add(f);
      System.out.println("FAILURE " + f);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Convergence of tracked clients (contract rule 1) and imsync vs the peer

  /** A client's maps of one account, as the contract's rule 1 describes them. */
  static final class ClientView {
    final Map<String, JsonNode> sessions = new HashMap<>();
    final Map<String, JsonNode> groups = new HashMap<>();

    void apply(JsonNode r) {
      if (r.get("reset").asBoolean()) {
        sessions.clear();
        groups.clear();
      }
      for (JsonNode g : r.get("groups")) groups.put(g.get("group_id").asText(), g);
      for (JsonNode g : r.get("removed_groups")) groups.remove(g.asText());
      for (JsonNode s : r.get("sessions")) sessions.put(s.get("session_id").asText(), s);
      for (JsonNode s : r.get("removed_sessions")) sessions.remove(s.asText());
    }
  }

  @SuppressWarnings("unchecked")
  Map<Integer, ClientView>[] newTracked() {
    Map<Integer, ClientView>[] t = new Map[2];
    for (int s = 0; s < 2; s++) {
      t[s] = new HashMap<>();
      for (int a = 0; a < hotAccounts; a += Math.max(1, hotAccounts / 100)) t[s].put(a, new ClientView());
    }
    return t;
  }

  void checkConverged(String prefix, Map<Integer, ClientView> tracked, String[] tokens) {
    String who = prefix.isEmpty() ? "imsync" : "redis";
    int checked = 0;
    for (Map.Entry<Integer, ClientView> e : tracked.entrySet()) {
      ClientView fresh = new ClientView();
      String c = null;
      String token = Api.deviceToken(hotId(e.getKey()), "verify");
      while (true) {
        JsonNode r = read(client.call(new Request("POST", prefix + "/v1/sync", token,
            c == null ? "{\"limit\":1000}" : "{\"cursor\":\"" + c + "\",\"limit\":1000}")));
        fresh.apply(r);
        c = r.get("cursor").asText();
        if (!r.get("has_more").asBoolean()) break;
      }
      if (!fresh.sessions.equals(e.getValue().sessions) || !fresh.groups.equals(e.getValue().groups)) {
        failures.add(who + ": the client of " + hotId(e.getKey()) + " did not converge to the server's state");
      }
      checked++;
    }
    report.with("convergence").put(who + "_accounts_checked", checked);
    System.out.printf("convergence: %d tracked %s clients hold exactly the server's sessions and groups%s%n", checked, who,
        failures.isEmpty() ? "" : " (FAILURES: " + failures + ")");
  }

  /** Same data in, same sessions and groups out: imsync and the peer agree field for field but versions. */
  void compareSystems(Map<Integer, ClientView>[] tracked) {
    int differing = 0;
    String first = null;
    for (Integer a : tracked[0].keySet()) {
      String d = firstDifference(withoutVersions(tracked[0].get(a).sessions), withoutVersions(tracked[1].get(a).sessions));
      if (d == null) d = firstDifference(withoutVersions(tracked[0].get(a).groups), withoutVersions(tracked[1].get(a).groups));
      if (d != null) {
        differing++;
        if (first == null) first = hotId(a) + ": " + d;
      }
    }
    if (differing > 0) failures.add(differing + " accounts differ between imsync and the peer; first: " + first);
    report.with("convergence").put("accounts_where_imsync_and_redis_differ", differing);
  }

  static String firstDifference(Map<String, JsonNode> imsync, Map<String, JsonNode> redis) {
    if (!imsync.keySet().equals(redis.keySet())) return "ids " + imsync.keySet() + " vs " + redis.keySet();
    for (String id : imsync.keySet()) {
      if (!imsync.get(id).equals(redis.get(id))) return id + ": imsync " + imsync.get(id) + " vs redis " + redis.get(id);
    }
    return null;
  }

  static Map<String, JsonNode> withoutVersions(Map<String, JsonNode> m) {
    Map<String, JsonNode> out = new HashMap<>();
    for (Map.Entry<String, JsonNode> e : m.entrySet()) {
      ObjectNode copy = e.getValue().deepCopy();
      copy.remove("version");
      out.put(e.getKey(), copy);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------------
  // 3. Related art: first sync of a 10,000-session account in 5 groups

  void relatedArt() {
    String account = "big";
    String token = Api.deviceToken(account, "d");
    int size = 10_000;
    for (String prefix : List.of("", PEER)) {
      String who = prefix.isEmpty() ? "imsync" : "redis";
      List<String> bodies = sessionBodies(List.of(account), size, 1000);
      setup(who + " preload big", bodies.size(), 1, i -> new Request("POST", prefix + "/v1/ingest", service, bodies.get(i)));
      List<Request> groupCalls = new ArrayList<>();
      for (int k = 0; k < 4; k++) groupCalls.add(new Request("POST", prefix + "/v1/groups", token, "{\"group_id\":\"f" + k + "\",\"name\":\"Folder " + k + "\"}"));
      setup(who + " big groups", groupCalls.size(), 1, groupCalls::get);
      List<Request> memberCalls = new ArrayList<>();
      for (int k = 0; k < 4; k++) {
        List<String> sids = new ArrayList<>();
        for (int j = 0; j < size; j++) {
          if (groupsOf(0, j).contains("f" + k)) sids.add("\"c:" + j + "\"");
          if (sids.size() == 1000 || (j == size - 1 && !sids.isEmpty())) {
            memberCalls.add(new Request("PUT", prefix + "/v1/groups/f" + k + "/sessions", token, "{\"sessions\":[" + String.join(",", sids) + "]}"));
            sids = new ArrayList<>();
          }
        }
      }
      setup(who + " big members", memberCalls.size(), 1, memberCalls::get);
    }
    ObjectNode out = report.putObject("related_art_first_sync");
    out.put("sessions", size);
    out.put("groups", 5);
    // one-batch first sync, each system: bytes and round trips of one complete first sync
    for (String prefix : List.of("", PEER)) {
      String who = prefix.isEmpty() ? "imsync" : "redis";
      long[] bytes = {0};
      int trips = 0;
      Set<String> seen = new HashSet<>();
      String c = null;
      while (true) {
        byte[] body = client.call(new Request("POST", prefix + "/v1/sync", token, c == null ? "{\"limit\":1000}" : "{\"cursor\":\"" + c + "\",\"limit\":1000}"));
        bytes[0] += body.length;
        trips++;
        JsonNode r = read(body);
        for (JsonNode s : r.get("sessions")) seen.add(s.get("session_id").asText());
        c = r.get("cursor").asText();
        if (!r.get("has_more").asBoolean()) break;
      }
      if (seen.size() != size) failures.add(who + " first sync brought " + seen.size() + " of " + size + " sessions");
      ObjectNode w = out.putObject(who + "_one_batch");
      w.put("bytes", bytes[0]);
      w.put("round_trips", trips);
      w.put("sessions_received", seen.size());
    }
    // the folder-by-folder client (the peer's per-group listing): a session comes once per group it is in
    long bytes = 0;
    int trips = 1;
    int received = 0;
    Set<String> distinct = new HashSet<>();
    JsonNode groups = read(client.call(new Request("GET", PEER + "/v1/groups", token, null)));
    bytes += groups.toString().length();
    for (JsonNode g : groups.get("groups")) {
      String after = null;
      while (true) {
        byte[] body = client.call(new Request("GET", PEER + "/v1/groups/" + g.get("group_id").asText() + "/sessions?limit=1000"
            + (after == null ? "" : "&after=" + after), token, null));
        bytes += body.length;
        trips++;
        JsonNode r = read(body);
        for (JsonNode s : r.get("sessions")) {
          received++;
          distinct.add(s.get("session_id").asText());
        }
        if (r.get("next").isNull()) break;
        after = r.get("next").asText();
      }
    }
    if (distinct.size() != size) failures.add("the folder-by-folder client got " + distinct.size() + " of " + size + " sessions");
    ObjectNode naive = out.putObject("folder_by_folder");
    naive.put("bytes", bytes);
    naive.put("round_trips", trips);
    naive.put("sessions_received", received);
    // throughput of complete first syncs, alternating systems, after a warm-up of 30 syncs each: the JIT
    // compiles the paths of 1,000-session pages (planner walk, writer, client parse) only after many of
    // them, and a warm-up of 4 left the first counted rounds of either system at a third of their pace
    List<Phase> im = new ArrayList<>();
    List<Phase> rd = new ArrayList<>();
    for (String prefix : List.of("", PEER)) firstSyncs(prefix, token, 30);
    for (int round = 1; round <= rounds; round++) {
      for (String prefix : List.of("", PEER)) (prefix.isEmpty() ? im : rd).add(firstSyncs(prefix, token, 8));
    }
    out.set("imsync_first_syncs", summary(im));
    out.set("redis_first_syncs", summary(rd));
    double[] ratio = ratios(im, rd);
    out.set("imsync_over_redis", spread(ratio));
    JsonNode one = out.get("imsync_one_batch");
    row("3 first sync, 10k sessions in 5 groups", "bytes / round trips", String.format("%,d B / %d", one.get("bytes").asLong(), one.get("round_trips").asInt()),
        String.format("%,d B / %d (folder by folder, %,d sessions sent)", bytes, trips, received),
        String.format("%.2fx bytes", bytes / (double) one.get("bytes").asLong()));
    row("", "complete first syncs/s", fmtRate(im), fmtRate(rd) + " (redis)", fmtRatio(ratio));
    double perSecond = median(im, Phase::perSecond);
    goal("2 first sync of 10,000 sessions, complete syncs/s", String.format("%s, %,d B (today 10/s, 91 ms, 3,559,445 B)", fmtRate(im),
        one.get("bytes").asLong()), "≥ 30/s (3x today) with the same bytes", perSecond >= 30);
  }

  /** {@code n} complete first syncs (every page, one after the other); a unit of the phase is one whole sync. */
  Phase firstSyncs(String prefix, String token, int n) {
    return client.measure((prefix.isEmpty() ? "imsync" : "redis") + " complete first syncs", n, () -> {
      long[] lat = new long[n];
      for (int k = 0; k < n; k++) {
        long t = System.nanoTime();
        followToEnd(prefix, token, null);
        lat[k] = System.nanoTime() - t;
      }
      return lat;
    });
  }

  /**
   * Heap of a session's text in this workload (session id, title, sender, preview) as compact Latin-1
   * Strings: 24-byte String + 16-byte array header + length rounded up to 8. An upper bound: an event
   * fanned out in one ingest call gives its recipients the same String instances.
   */
  static double textBytesPerSession(int sessions) {
    long total = 0;
    for (int j = 0; j < sessions; j++) {
      for (String t : List.of("c:" + j, "Chat c:" + j, "u" + j, "the quick brown fox jumps over the lazy dog")) {
        total += 24 + 16 + (t.length() + 7) / 8 * 8;
      }
    }
    return total / (double) sessions;
  }

  // ---------------------------------------------------------------------------------------------------
  // 5a. Snapshot of the largest account (100,000 sessions at full size); its recovery is timed with the
  //     cold accounts, once it has passivated

  /** Wall-clock time the largest account's snapshot was written in, and its size; NaN / -1 when none. */
  double snapshotMs = Double.NaN;
  long snapshotBytes = -1;

  void snapshotOfLargest() throws Exception {
    ObjectNode out = report.putObject("snapshot_of_largest");
    out.put("account", largest);
    out.put("sessions", largestSessions);
    String pid = "Account|" + largest;
    try (CqlSession cql = benchCql()) {
      // imsync's chunked snapshot store: one header row per complete snapshot (chunks: snapshot_chunks)
      PreparedStatement latest = cql.prepare("SELECT sequence_nr, timestamp FROM imsync_snapshot.snapshot_headers WHERE persistence_id = ? "
          + "ORDER BY sequence_nr DESC LIMIT 1");
      long before = latestSnapshot(cql, latest, pid)[0];
      // one small change per ingest call (one journal row each) until the account snapshots on its own
      // schedule (imsync.snapshot: every 200 rows by default); the account's production settings decide
      long[] found = null;
      long foundAtMillis = 0;
      int calls = 0;
      for (; calls < 450 && found == null; calls++) {
        client.call(new Request("POST", "/v1/ingest", service, ingestBody(List.of(message("c:0", 10_000 + calls, "u", T0 + 2_000_000_000L + calls,
            List.of(largest), null)))));
        long[] now = latestSnapshot(cql, latest, pid);
        if (now[0] > before) {
          found = now;
          foundAtMillis = System.currentTimeMillis();
        }
      }
      // the last rows may have started one that is still being written
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (found == null && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // poll interval
        long[] now = latestSnapshot(cql, latest, pid);
        if (now[0] > before) {
          found = now;
          foundAtMillis = System.currentTimeMillis();
        }
      }
      out.put("small_ingest_calls_until_snapshot", calls);
      if (found == null) {
        out.put("snapshot_written", false);
        System.out.printf("snapshot of %s (%,d sessions): none in imsync_snapshot.snapshot_headers after %d more journal rows (see target/bench/node.log)%n",
            largest, largestSessions, calls);
        return;
      }
      var row = cql.execute(cql.prepare("SELECT size, chunks FROM imsync_snapshot.snapshot_headers WHERE persistence_id = ? AND sequence_nr = ?")
          .bind(pid, found[0])).one();
      snapshotBytes = row == null ? -1 : row.getLong(0);
      if (row != null) out.put("snapshot_chunks", row.getInt(1));
      // the row's timestamp is when the entity asked for the snapshot; it became visible at foundAtMillis
      if (found[1] > 0) snapshotMs = foundAtMillis - found[1];
      out.put("snapshot_written", true);
      out.put("snapshot_sequence_nr", found[0]);
      out.put("snapshot_bytes", snapshotBytes);
      out.put("snapshot_write_ms", snapshotMs);
      System.out.printf("snapshot of %s (%,d sessions): %,d bytes at journal row %d, written in %.0f ms (taken to visible)%n", largest,
          largestSessions, snapshotBytes, found[0], snapshotMs);
    }
  }

  /** {sequence_nr, timestamp} of the latest snapshot of {@code pid}, {-1, 0} when there is none. */
  static long[] latestSnapshot(CqlSession cql, PreparedStatement latest, String pid) {
    try {
      var row = cql.execute(latest.bind(pid)).one();
      return row == null ? new long[] {-1, 0} : new long[] {row.getLong(0), row.getLong(1)};
    } catch (RuntimeException e) {
      // the table appears with the first snapshot (keyspace autocreate)
      return new long[] {-1, 0};
    }
  }

  static CqlSession benchCql() {
    return CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", BenchProcesses.CQL_PORT))
        .withLocalDatacenter("datacenter1").build();
  }

  // ---------------------------------------------------------------------------------------------------
  // 3b. Verify repair (POST /v1/sync/verify, API v1.1) against a full resync, on the 10,000-session account

  void verifyRepair() {
    String token = Api.deviceToken("big", "verify");
    ObjectNode out = report.putObject("verify_repair");
    String what = "3b verify repair vs full resync (10,000 sessions, 10 drifted)";
    LoadClient.Connection.Answer probe = client.probe(new Request("POST", "/v1/sync/verify", token,
        "{\"groups\":null,\"digests\":[\"0000000000000000\"]}"));
    if (probe.status() == 404) {
      out.put("built", false);
      row(what, "bytes, ms", "not built (`POST /v1/sync/verify` answers 404)", "", "");
      goals.add(String.format("%-52s %s", "- verify repair vs full resync", "not built (POST /v1/sync/verify answers 404)"));
      return;
    }
    out.put("built", true);
    int buckets = 1024;
    int drifted = 10;
    List<Long> fullBytes = new ArrayList<>();
    List<Long> fullNanos = new ArrayList<>();
    List<Long> verifyBytes = new ArrayList<>();
    List<Long> verifyNanos = new ArrayList<>();
    for (int round = 0; round <= rounds; round++) {
      // full resync: every page of a first sync; the copy it gives is the client's
      Map<String, Long> copy = new HashMap<>();
      long t = System.nanoTime();
      long bytes = 0;
      String c = null;
      while (true) {
        byte[] body = client.call(new Request("POST", "/v1/sync", token, c == null ? "{\"limit\":1000}" : "{\"cursor\":\"" + c + "\",\"limit\":1000}"));
        bytes += body.length;
        JsonNode r = read(body);
        for (JsonNode s : r.get("sessions")) copy.put(s.get("session_id").asText(), s.get("version").asLong());
        c = r.get("cursor").asText();
        if (!r.get("has_more").asBoolean()) break;
      }
      long full = System.nanoTime() - t;
      // the client's copy drifts: 10 sessions hold a version the server never gave them
      List<String> ids = new ArrayList<>(copy.keySet());
      java.util.Collections.sort(ids);
      Set<String> drift = new HashSet<>();
      for (int k = 0; k < drifted; k++) {
        String id = ids.get((k * 997 + round * 31) % ids.size());
        drift.add(id);
        copy.put(id, copy.get(id) + 1_000_000L);
      }
      String body = "{\"groups\":null,\"digests\":[" + String.join(",", digests(copy, buckets).stream().map(d -> "\"" + d + "\"").toList()) + "]}";
      t = System.nanoTime();
      LoadClient.Connection.Answer a = client.probe(new Request("POST", "/v1/sync/verify", token, body));
      long verify = System.nanoTime() - t;
      if (a.status() != 200) {
        failures.add("verify: status " + a.status() + ": " + new String(a.body(), StandardCharsets.UTF_8));
        return;
      }
      JsonNode r = read(a.body());
      Set<String> sent = new HashSet<>();
      for (JsonNode s : r.get("sessions")) sent.add(s.get("session_id").asText());
      if (!sent.containsAll(drift) && r.get("unchecked").size() == 0) {
        failures.add("verify: the drifted sessions " + drift + " are not all in the answer");
      }
      if (round > 0) {
        fullBytes.add(bytes);
        fullNanos.add(full);
        verifyBytes.add((long) a.body().length);
        verifyNanos.add(verify);
      }
    }
    long fb = medianLong(fullBytes);
    long vb = medianLong(verifyBytes);
    double fms = medianLong(fullNanos) / 1e6;
    double vms = medianLong(verifyNanos) / 1e6;
    out.put("buckets", buckets);
    out.put("drifted_sessions", drifted);
    out.put("verify_bytes", vb);
    out.put("verify_ms", vms);
    out.put("full_resync_bytes", fb);
    out.put("full_resync_ms", fms);
    row(what, "answer bytes, ms (" + buckets + " buckets)", String.format("%,d B, %.1f ms", vb, vms),
        String.format("full resync: %,d B, %.1f ms", fb, fms), String.format("%.3f of the bytes", vb / (double) fb));
    goals.add(String.format("%-52s %,d B, %.1f ms vs full resync %,d B, %.1f ms", "- verify repair vs full resync", vb, vms, fb, fms));
  }

  /** The contract's bucket digests of a client's copy (session id -> version): API.md, "Repair without a full resync". */
  static List<String> digests(Map<String, Long> copy, int buckets) {
    long[] xor = new long[buckets];
    try {
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      for (Map.Entry<String, Long> e : copy.entrySet()) {
        byte[] idHash = sha.digest(e.getKey().getBytes(StandardCharsets.UTF_8));
        long bucket = (ByteBuffer.wrap(idHash, 0, 4).getInt() & 0xffffffffL) % buckets;
        byte[] h = sha.digest((e.getKey() + "\n" + e.getValue()).getBytes(StandardCharsets.UTF_8));
        xor[(int) bucket] ^= ByteBuffer.wrap(h, 0, 8).getLong();
      }
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    List<String> out = new ArrayList<>();
    for (long x : xor) out.add(String.format("%016x", x));
    return out;
  }

  static long medianLong(List<Long> v) {
    List<Long> s = v.stream().sorted().toList();
    return s.get(s.size() / 2);
  }

  // ---------------------------------------------------------------------------------------------------
  // 4. Ingest through /v1/ingest vs raw single-row inserts into a table of the journal's shape

  void ingest() throws Exception {
    int accounts = Math.max(50, (int) Math.round(1000 * scale));
    ObjectNode out = report.putObject("ingest");
    List<Phase> batches = new ArrayList<>();
    List<Phase> fanOut = new ArrayList<>();
    List<Phase> raw8 = new ArrayList<>();
    List<Phase> raw128 = new ArrayList<>();
    int calls = 200;
    int fanCalls = 120;
    List<String> fans = new ArrayList<>();
    for (int k = 0; k < 500; k++) fans.add("fan" + k);
    try (CqlSession cql = CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", BenchProcesses.CQL_PORT))
        .withLocalDatacenter("datacenter1").build()) {
      cql.execute("CREATE KEYSPACE IF NOT EXISTS bench_raw WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
      cql.execute("CREATE TABLE IF NOT EXISTS bench_raw.messages (persistence_id text, partition_nr bigint, sequence_nr bigint, "
          + "timestamp timeuuid, timebucket text, writer_uuid text, ser_id int, ser_manifest text, event_manifest text, event blob, "
          + "meta_ser_id int, meta_ser_manifest text, meta blob, tags set<text>, "
          + "PRIMARY KEY ((persistence_id, partition_nr), sequence_nr, timestamp))");
      PreparedStatement insert = cql.prepare("INSERT INTO bench_raw.messages (persistence_id, partition_nr, sequence_nr, timestamp, "
          + "timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event) VALUES (?, 0, ?, now(), ?, ?, 33, ?, '', ?)");
      int rows = calls * 100;
      byte[] event = new byte[eventBytes()];
      java.util.Arrays.fill(event, (byte) 7);
      String writer = UUID.randomUUID().toString();
      long[] seq = new long[accounts];
      // rounds alternate imsync and raw inserts, so both meet the same background work of the machine
      // (Cassandra compacting the earlier scenarios' writes, accounts passivating with a snapshot)
      for (int round = 0; round <= 3; round++) {
        int r = round;
        // (a) calls of 100 events, each event for one of the accounts (100 different accounts per call)
        Phase a = client.run("ingest batches of 100, round " + round, calls, 8, i -> {
          List<String> events = new ArrayList<>();
          for (int e = 0; e < 100; e++) {
            int n = i * 100 + e;
            events.add(message("c:" + (n / accounts), r + 1, "u", T0 + r * 1000L + e, List.of("in" + n % accounts), null));
          }
          return new Request("POST", "/v1/ingest", service, ingestBody(events));
        }, (i, status, body) -> status == 200 && read(body).get("accepted").asInt() == 100 ? null : "status " + status + " " + new String(body, StandardCharsets.UTF_8));
        // (b) one event fanned out to 500 accounts per call (a room of its own per call: calls in flight
        // together may land in any order, and a lower seq after a higher one would rightly be ignored)
        // the warm-up round is longer: 500 new accounts recover first, and the path reaches its pace only
        // after a few hundred calls (JIT, driver and Cassandra warming up)
        Phase b = client.run("ingest fan-out to 500, round " + round, round == 0 ? 4 * fanCalls : fanCalls, 8,
            i -> new Request("POST", "/v1/ingest", service, ingestBody(List.of(message("room" + i, r + 1, "u", T0 + r * 1000L + i, fans, null)))),
            (i, status, body) -> status == 200 && read(body).get("accepted").asInt() == 500 ? null : "status " + status + " " + new String(body, StandardCharsets.UTF_8));
        noteFailures(a);
        noteFailures(b);
        if (round > 0) {
          batches.add(a);
          fanOut.add(b);
        }
        for (int inFlight : new int[] {8, 128}) {
          Phase p = client.measure("raw inserts, " + inFlight + " in flight", rows, () -> {
            Semaphore slots = new Semaphore(inFlight);
            long[] lat = new long[rows];
            CompletableFuture<?>[] all = new CompletableFuture<?>[rows];
            for (int i = 0; i < rows; i++) {
              slots.acquireUninterruptibly();
              int acc = i % accounts;
              long t = System.nanoTime();
              int index = i;
              all[i] = cql.executeAsync(insert.bind("Account|in" + acc, ++seq[acc], "19700101T00", writer, "imsync.core.AccountEvent$MessageIngested",
                      ByteBuffer.wrap(event))).toCompletableFuture()
                  .whenComplete((ok, err) -> {
                    lat[index] = System.nanoTime() - t;
                    slots.release();
                  });
            }
            CompletableFuture.allOf(all).join();
            return lat;
          });
          if (round > 0) (inFlight == 8 ? raw8 : raw128).add(p);
        }
      }
    }
    out.put("accounts", accounts);
    out.put("event_bytes_raw", eventBytes());
    out.set("imsync_batches_of_100_calls", summary(batches));
    out.set("imsync_fan_out_500_calls", summary(fanOut));
    out.set("raw_inserts_8_in_flight", summary(raw8));
    out.set("raw_inserts_128_in_flight", summary(raw128));
    double[] batchEvents = perSecond(batches, 100);
    double[] fanEvents = perSecond(fanOut, 500);
    double[] r8 = perSecond(raw8, 1);
    double[] r128 = perSecond(raw128, 1);
    out.set("imsync_batches_events_per_second", spread(batchEvents));
    out.set("imsync_fan_out_events_per_second", spread(fanEvents));
    out.set("raw_8_rows_per_second", spread(r8));
    out.set("raw_128_rows_per_second", spread(r128));
    row("4 ingest, events/s stored", "batches of 100 over " + accounts + " accounts (8 calls in flight)", fmt(batchEvents),
        fmt(r8) + " raw rows, 8 in flight", String.format("%.2f", median(batchEvents) / median(r8)));
    row("", "one event to 500 accounts (8 calls in flight)", fmt(fanEvents), fmt(r128) + " raw rows, 128 in flight",
        String.format("%.2f", median(fanEvents) / median(r128)));
    goal("3 fan-out ingest ÷ raw inserts (one event to 500)", String.format("%.2f (%s events/s vs %s rows/s)", median(fanEvents) / median(r128),
        fmt(fanEvents), fmt(r128)), "≥ 0.60", median(fanEvents) / median(r128) >= 0.6);
    goals.add(String.format("%-52s %s", "6 failover after kill -9 of a node",
        "not in this run: ClusterMultiJvmTest prints it (\"[multi-jvm] SIGKILL ...\"); goal ≤ 12 s"));
  }

  /** The size of a stored message event (Jackson CBOR, as the journal holds it). */
  static int eventBytes() {
    try {
      var cbor = new com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper();
      return cbor.writeValueAsBytes(new imsync.core.AccountEvent.MessageIngested("c:123", "group", "Chat c:123", 2, "u123",
          "the quick brown fox jumps over the lazy dog", T0, false, false)).length;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static double[] perSecond(List<Phase> ps, int perRequest) {
    return ps.stream().mapToDouble(p -> p.perSecond() * perRequest).sorted().toArray();
  }

  static double median(double[] sorted) {
    return sorted[sorted.length / 2];
  }

  static String fmt(double[] sorted) {
    return String.format("%,.0f [%,.0f–%,.0f]", sorted[sorted.length / 2], sorted[0], sorted[sorted.length - 1]);
  }

  // ---------------------------------------------------------------------------------------------------
  // 6. Memory of 2,000-session accounts (the 200-session figure comes from the hot accounts)

  void memoryOfLargeAccounts() throws Exception {
    int accounts = Math.max(10, (int) Math.round(100 * scale));
    int sessions = 2000;
    long before = procs.nodeHeapUsedAfterGc();
    List<String> ids = new ArrayList<>();
    for (int a = 0; a < accounts; a++) ids.add("m" + a);
    List<String> bodies = sessionBodies(ids, sessions, 100);
    setup("preload of 2,000-session accounts", bodies.size(), 2, i -> new Request("POST", "/v1/ingest", service, bodies.get(i)));
    long after = procs.nodeHeapUsedAfterGc();
    ObjectNode mem = (ObjectNode) report.get("memory");
    double per2000 = (after - before) / (double) accounts;
    mem.put("bytes_per_account_2000_sessions", per2000);
    mem.put("accounts_per_gib_2000_sessions", (1L << 30) / per2000);
    double per200 = mem.get("bytes_per_account_200_sessions").asDouble();
    row("6 heap per active account", "200 / 2,000 sessions", String.format("%,.0f B / %,.0f B", per200, per2000),
        String.format("%,.0f / %,.0f accounts per GiB", (1L << 30) / per200, (1L << 30) / per2000), "");
    double perSession = per2000 / sessions;
    double text = textBytesPerSession(sessions);
    mem.put("bytes_per_session_2000_session_accounts", perSession);
    mem.put("bytes_per_session_200_session_accounts", per200 / 200);
    mem.put("text_bytes_per_session_if_unshared", text);
    row("", "live heap per session (200- / 2,000-session accounts)", String.format("%,.0f B / %,.0f B", per200 / 200, perSession),
        String.format("text of a session, as Strings if not shared: %,.0f B", text), String.format("beyond text ≥ %,.0f B", perSession - text));
    goal("7 memory per session (live heap, 2,000-session accounts)", String.format("%,.0f B, of which text ≤ %,.0f B: beyond text ≥ %,.0f B",
        perSession, text, perSession - text), "≤ 300 B + text", perSession - text <= 300);
  }

  // ---------------------------------------------------------------------------------------------------
  // 5. Cold accounts: 1,000-session accounts passivated by the node (idle), synced on a warm node

  /** The first {@code warmUp} accounts warm the node's recovery path up; the others are measured. */
  record ColdSet(List<String> ids, String[] tokens, String[] cursors, long lastTouchNanos, int warmUp) {}

  ColdSet coldPrepare() {
    int measured = Math.max(20, (int) Math.round(200 * scale));
    int warmUp = measured / 2;
    int accounts = warmUp + measured;
    int sessions = 1000;
    List<String> ids = new ArrayList<>();
    String[] tokens = new String[accounts];
    for (int a = 0; a < accounts; a++) {
      String id = a < warmUp ? "coldw" + a : "cold" + (a - warmUp);
      ids.add(id);
      tokens[a] = Api.deviceToken(id, "d");
    }
    List<String> bodies = sessionBodies(ids, sessions, 100);
    setup("preload of cold accounts", bodies.size(), 2, i -> new Request("POST", "/v1/ingest", service, bodies.get(i)));
    String[] cursors = new String[accounts];
    for (int a = 0; a < accounts; a++) cursors[a] = followToEnd("", tokens[a], null);
    // 10 changes each, so the cold sync has a delta to bring and the account has events since its load
    client.call(new Request("POST", "/v1/ingest", service, ingestBody(changes(ids, 0))));
    return new ColdSet(ids, tokens, cursors, System.nanoTime(), warmUp);
  }

  static List<String> changes(List<String> ids, int pass) {
    List<String> events = new ArrayList<>();
    for (int i = 0; i < 10; i++) events.add(message("c:" + (pass * 10 + i), 2 + pass, "u", T0 + 5_000_000L + pass * 100 + i, ids, null));
    return events;
  }

  void coldAccounts(ColdSet cold) throws Exception {
    int warmUp = cold.warmUp();
    int accounts = cold.ids().size() - warmUp;
    // Akka passivates an entity idle for the timeout at its next check (every half timeout): wait that out
    long passivatedBy = cold.lastTouchNanos() + BenchProcesses.PASSIVATE_IDLE.toNanos() * 3 / 2 + TimeUnit.SECONDS.toNanos(5);
    long wait = passivatedBy - System.nanoTime();
    if (wait > 0) {
      System.out.printf("waiting %.0f s more for the cold accounts to passivate (node idle timeout %d s) ...%n", wait / 1e9,
          BenchProcesses.PASSIVATE_IDLE.toSeconds());
      TimeUnit.NANOSECONDS.sleep(wait); // the node's idle timer, not a race: nothing else touches these accounts
    }
    ObjectNode out = report.putObject("cold_accounts");
    // the largest account first, alone: its recovery (snapshot plus the events after it) is this one sync
    String largestToken = Api.deviceToken(largest, "d");
    long t = System.nanoTime();
    byte[] body = client.call(new Request("POST", "/v1/sync", largestToken, syncBody(largestCursor)));
    double recoveryMs = (System.nanoTime() - t) / 1e6;
    JsonNode lr = read(body);
    if (lr.get("reset").asBoolean() || lr.get("sessions").size() != 1) {
      failures.add("the largest account's first sync after passivation: expected 1 changed session, got " + lr.get("sessions").size());
    }
    t = System.nanoTime();
    client.call(new Request("POST", "/v1/sync", largestToken, syncBody(lr.get("cursor").asText())));
    double largestWarmMs = (System.nanoTime() - t) / 1e6;
    ObjectNode snap = (ObjectNode) report.get("snapshot_of_largest");
    snap.put("recovery_sync_ms", recoveryMs);
    snap.put("warm_sync_ms", largestWarmMs);
    String snapText = snapshotBytes < 0 ? "no snapshot written" : String.format("snapshot %,d B written in %.0f ms", snapshotBytes, snapshotMs);
    row(String.format("5a largest account (%,d sessions), passivated", largestSessions), "snapshot; first sync after passivation (recovery)",
        String.format("%s; recovery %.0f ms", snapText, recoveryMs), String.format("the next sync, warm: %.1f ms", largestWarmMs), "");
    goal(String.format("5 snapshot + recovery, %,d sessions", largestSessions), String.format("%s; recovery %.0f ms", snapText, recoveryMs),
        "snapshot written, recovery ≤ 2,000 ms", snapshotBytes >= 0 && recoveryMs <= 2000);

    String[] cursors = cold.cursors();
    String[] tokens = cold.tokens();
    // "node warm": other passivated accounts first, so the recovery path (snapshot decode, state build) is
    // compiled as it is on a node that has been running, then the measured ones
    Phase warming = client.run("cold syncs of other passivated accounts (warm-up)", warmUp, 4,
        i -> new Request("POST", "/v1/sync", tokens[i], syncBody(cursors[i])),
        (i, status, b) -> status == 200 && read(b).get("sessions").size() == 10 ? null : "status " + status);
    noteFailures(warming);
    List<Phase> phases = new ArrayList<>();
    for (int pass = 0; pass < 2; pass++) {
      if (pass == 1) {
        client.call(new Request("POST", "/v1/ingest", service, ingestBody(changes(cold.ids().subList(warmUp, warmUp + accounts), 1))));
      }
      Phase p = client.run(pass == 0 ? "cold syncs of passivated accounts" : "the same syncs, warm", accounts, 4,
          i -> new Request("POST", "/v1/sync", tokens[warmUp + i], syncBody(cursors[warmUp + i])),
          (i, status, b) -> {
            if (status != 200) return "status " + status;
            JsonNode r = read(b);
            if (r.get("sessions").size() != 10) return "expected 10 sessions, got " + r.get("sessions").size();
            cursors[warmUp + i] = r.get("cursor").asText();
            return null;
          });
      noteFailures(p);
      phases.add(p);
    }
    out.put("accounts", accounts);
    out.put("sessions_per_account", 1000);
    out.put("passivate_idle_seconds", BenchProcesses.PASSIVATE_IDLE.toSeconds());
    out.set("cold", summary(List.of(phases.get(0))));
    out.set("warm", summary(List.of(phases.get(1))));
    Phase c = phases.get(0);
    Phase w = phases.get(1);
    out.put("warm_up_accounts", warmUp);
    row(String.format("5 cold accounts (%d x 1,000 sessions, passivated; node warm, after %d others; 4 in flight)", accounts, warmUp), "sync p50/p99 ms",
        String.format("%.1f / %.1f", c.percentileMs(50), c.percentileMs(99)), String.format("%.1f / %.1f warm", w.percentileMs(50), w.percentileMs(99)), "");
    goal("4 cold sync p99, passivated 1,000-session accounts", String.format("p99 %.1f ms, p50 %.1f ms (warm: %.1f / %.1f)",
        c.percentileMs(99), c.percentileMs(50), w.percentileMs(99), w.percentileMs(50)), "p99 ≤ 30 ms", c.percentileMs(99) <= 30);
  }

  // figures

  static double median(List<Phase> ps, java.util.function.ToDoubleFunction<Phase> f) {
    double[] v = ps.stream().mapToDouble(f).sorted().toArray();
    return v.length == 0 ? Double.NaN : v[v.length / 2];
  }

  static double[] ratios(List<Phase> a, List<Phase> b) {
    double[] r = new double[Math.min(a.size(), b.size())];
    for (int i = 0; i < r.length; i++) r[i] = a.get(i).perSecond() / b.get(i).perSecond();
    Arrays.sort(r);
    return r;
  }

  static ObjectNode spread(double[] sorted) {
    ObjectNode n = JSON.createObjectNode();
    n.put("median", sorted[sorted.length / 2]);
    n.put("min", sorted[0]);
    n.put("max", sorted[sorted.length - 1]);
    return n;
  }

  static ObjectNode summary(List<Phase> ps) {
    ObjectNode n = JSON.createObjectNode();
    n.set("per_second", spread(ps.stream().mapToDouble(Phase::perSecond).sorted().toArray()));
    n.put("p50_ms", median(ps, p -> p.percentileMs(50)));
    n.put("p99_ms", median(ps, p -> p.percentileMs(99)));
    n.put("failures", ps.stream().mapToInt(Phase::failures).sum());
    n.put("requests", ps.stream().mapToInt(Phase::requests).sum());
    n.put("median_answer_bytes", median(ps, p -> p.bytes() / (double) p.requests()));
    n.put("client_cpu_share", median(ps, Phase::clientCpu));
    n.put("node_cpu_share", median(ps, Phase::nodeCpu));
    n.put("redis_cpu_share", median(ps, Phase::redisCpu));
    n.put("cassandra_cpu_share", median(ps, Phase::cassandraCpu));
    ArrayNode rounds = n.putArray("rounds_per_second");
    for (Phase p : ps) rounds.add(p.perSecond());
    return n;
  }

  static String fmtRate(List<Phase> ps) {
    double[] v = ps.stream().mapToDouble(Phase::perSecond).sorted().toArray();
    return String.format("%,.0f/s [%,.0f–%,.0f], %.1f/%.1f ms", v[v.length / 2], v[0], v[v.length - 1],
        median(ps, p -> p.percentileMs(50)), median(ps, p -> p.percentileMs(99)));
  }

  static String fmtRatio(double[] sorted) {
    return String.format("%.2f [%.2f–%.2f]", sorted[sorted.length / 2], sorted[0], sorted[sorted.length - 1]);
  }

  static String pct(double share) {
    return String.format("%.0f%%", share * 100);
  }

  void row(String scenario, String metric, String imsync, String other, String ratio) {
    table.add(new String[] {scenario, metric, imsync, other, ratio});
  }

  void finish(long start) throws IOException {
    double minutes = (System.nanoTime() - start) / 60e9;
    report.put("minutes", minutes);
    report.putArray("failures").addAll(failures.stream().map(JSON.getNodeFactory()::textNode).toList());
    Path out = procs.dir.resolve("side-by-side.json");
    Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
    StringBuilder t = new StringBuilder();
    t.append(String.format("%n| scenario | measure | imsync | other | ratio |%n|---|---|---|---|---|%n"));
    for (String[] r : table) t.append(String.format("| %s | %s | %s | %s | %s |%n", (Object[]) r));
    System.out.print(t);
    System.out.printf("%nissue 10 goals, this run (figure; goal: met or not):%n");
    // in the order (the scenarios ran in another); "-" lines last
    List<String> ordered = goals.stream().sorted(java.util.Comparator.comparing((String g) -> g.startsWith("-")).thenComparing(g -> g)).toList();
    for (String g : ordered) System.out.println("  " + g);
    report.putArray("goals").addAll(ordered.stream().map(JSON.getNodeFactory()::textNode).toList());
    System.out.printf("%n%s; %s; %.1f minutes; figures in %s%s%n", report.get("date").asText(), report.get("machine").asText(), minutes, out,
        failures.isEmpty() ? "" : "; FAILURES: " + failures);
  }
}
