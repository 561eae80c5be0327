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
import java.util.function.IntFunction;

/**
 * imsync against its limits and its peer, in one run on one machine: the scenarios of the benchmark issue
 * (hot delta sync vs the HTTP ceiling and a Redis inbox, scaling, first sync vs a folder-by-folder client,
 * ingest vs raw Cassandra inserts, cold accounts, memory). Prints a table and writes
 * {@code target/bench/side-by-side.json}. Run: {@code ./imsync bench side-by-side}.
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
  final int rounds = 5;
  final int inFlight = 16;
  final BenchProcesses procs;
  final LoadClient client;
  final String service = Api.serviceToken();
  final ObjectNode report = JSON.createObjectNode();
  final List<String[]> table = new ArrayList<>();
  final List<String> failures = new ArrayList<>();

  SideBySideBenchmark(int hotAccounts, double scale, BenchProcesses procs) {
    this.scale = scale;
    this.hotAccounts = hotAccounts;
    this.procs = procs;
    this.client = new LoadClient(procs.nodeBase(), procs);
  }

  /**
   * Arguments: [hot accounts (default 10,000, the size; the whole run takes about 13 minutes on
   * a 2-core machine, most of it preloading)] [scale of the other scenarios (default 1.0)].
   */
  public static void main(String[] args) throws Exception {
    int hot = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    double scale = args.length > 1 ? Double.parseDouble(args[1]) : 1.0;
    long start = System.nanoTime();
    boolean failed;
    try (BenchProcesses procs = new BenchProcesses("8g")) {
      System.out.println("starting a fresh Cassandra, redis-server and an imsync node (target/bench) ...");
      procs.startCassandra();
      procs.startRedis();
      procs.startNode();
      SideBySideBenchmark b = new SideBySideBenchmark(hot, scale, procs);
      b.runAll();
      b.finish(start);
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
    long heapBaseline = procs.nodeHeapUsedAfterGc();
    hotDeltaSync(heapBaseline);
    scaling();
    relatedArt();
    ingest();
    memoryOfLargeAccounts();
    coldAccounts();
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
    List<Phase> ceiling = new ArrayList<>();
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
      long bytes = sorted[sorted.length / 2];
      Phase c = client.run("ceiling, round " + round, accounts, inFlight,
          i -> new Request("POST", "/bench/ceiling?bytes=" + bytes, tokens[i], "{\"cursor\":\"" + cursors[0][i] + "\",\"limit\":200}"),
          (i, status, body) -> status == 200 && body.length == bytes ? null : "status " + status + ", " + body.length + " bytes");
      noteFailures(c);
      if (round > 1) ceiling.add(c);
      System.out.printf("round %d%s: imsync %.0f/s, redis %.0f/s, ceiling %.0f/s (%d-byte answers)%n", round, round == 1 ? " (warm-up)" : "",
          roundSync[0].perSecond(), roundSync[1].perSecond(), c.perSecond(), bytes);
    }
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
    s1.set("ceiling", summary(ceiling));
    s1.set("ingest_imsync", summary(ingestImsync));
    s1.set("ingest_redis", summary(ingestRedis));
    double[] toCeiling = ratios(imsync, ceiling);
    double[] toRedis = ratios(imsync, redis);
    s1.set("imsync_over_ceiling", spread(toCeiling));
    s1.set("imsync_over_redis", spread(toRedis));
    row("1 hot delta sync (" + accounts + " x 200, 10 changes)", "imsync req/s, p50/p99 ms", fmtRate(imsync), fmtRate(redis) + " (redis)", fmtRatio(toRedis));
    row("", "vs HTTP ceiling req/s", fmtRate(imsync), fmtRate(ceiling) + " (ceiling)", fmtRatio(toCeiling));
    row("", "load generator CPU share", pct(median(imsync, Phase::clientCpu)), pct(median(ceiling, Phase::clientCpu)) + " (ceiling)", "");
    row("", "node / redis / cassandra CPU (imsync sync)", pct(median(imsync, Phase::nodeCpu)) + " / - / " + pct(median(imsync, Phase::cassandraCpu)),
        pct(median(redis, Phase::nodeCpu)) + " / " + pct(median(redis, Phase::redisCpu)) + " (redis sync)", "");

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
  // 2. Scaling: delta latency of 10 changes for accounts of 100 to 100,000 sessions

  void scaling() {
    ObjectNode out = report.putObject("scaling");
    int[] sizes = {100, 1_000, 10_000, 100_000};
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
    double growth = out.get("100000").get("imsync").get("p50_ms").asDouble() / out.get("100").get("imsync").get("p50_ms").asDouble();
    out.put("imsync_growth_100_to_100000", growth);
    row("2 delta latency, 100/1k/10k/100k sessions", "p50 ms (one client)", im.toString(), rd + " (redis)", String.format("%.2fx growth", growth));
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
    // throughput of complete first syncs, alternating systems, one warm-up round
    List<Phase> im = new ArrayList<>();
    List<Phase> rd = new ArrayList<>();
    for (int round = 0; round <= rounds; round++) {
      for (String prefix : List.of("", PEER)) {
        Phase p = firstSyncs(prefix, token, 4);
        if (round > 0) (prefix.isEmpty() ? im : rd).add(p);
      }
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

  // ---------------------------------------------------------------------------------------------------
  // 4. Ingest through /v1/ingest vs raw single-row inserts into a table of the journal's shape

  void ingest() throws Exception {
    int accounts = Math.max(50, (int) Math.round(1000 * scale));
    ObjectNode out = report.putObject("ingest");
    List<Phase> batches = new ArrayList<>();
    List<Phase> fanOut = new ArrayList<>();
    int calls = 200;
    int fanCalls = 60;
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
      List<String> fans = new ArrayList<>();
      for (int k = 0; k < 500; k++) fans.add("fan" + k);
      Phase b = client.run("ingest fan-out to 500, round " + round, fanCalls, 8,
          i -> new Request("POST", "/v1/ingest", service, ingestBody(List.of(message("room" + i, r + 1, "u", T0 + r * 1000L + i, fans, null)))),
          (i, status, body) -> status == 200 && read(body).get("accepted").asInt() == 500 ? null : "status " + status + " " + new String(body, StandardCharsets.UTF_8));
      noteFailures(a);
      noteFailures(b);
      if (round > 0) {
        batches.add(a);
        fanOut.add(b);
      }
    }
    List<Phase> raw8 = new ArrayList<>();
    List<Phase> raw128 = new ArrayList<>();
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
      for (int round = 0; round <= 3; round++) {
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
  }

  // ---------------------------------------------------------------------------------------------------
  // 5. Cold accounts: 1,000-session accounts synced right after a node restart (recovery included)

  void coldAccounts() throws Exception {
    int accounts = Math.max(20, (int) Math.round(200 * scale));
    int sessions = 1000;
    List<String> ids = new ArrayList<>();
    String[] tokens = new String[accounts];
    for (int a = 0; a < accounts; a++) {
      ids.add("cold" + a);
      tokens[a] = Api.deviceToken("cold" + a, "d");
    }
    List<String> bodies = sessionBodies(ids, sessions, 100);
    setup("preload of cold accounts", bodies.size(), 2, i -> new Request("POST", "/v1/ingest", service, bodies.get(i)));
    String[] cursors = new String[accounts];
    for (int a = 0; a < accounts; a++) cursors[a] = followToEnd("", tokens[a], null);
    List<Phase> phases = new ArrayList<>();
    for (int pass = 0; pass < 2; pass++) {
      List<String> events = new ArrayList<>();
      for (int i = 0; i < 10; i++) events.add(message("c:" + (pass * 10 + i), 2 + pass, "u", T0 + 5_000_000L + pass * 100 + i, ids, null));
      client.call(new Request("POST", "/v1/ingest", service, ingestBody(events)));
      if (pass == 0) {
        long t = System.nanoTime();
        procs.restartNode();
        client.forgetConnections();
        report.putObject("cold_accounts").put("node_restart_seconds", (System.nanoTime() - t) / 1e9);
      }
      Phase p = client.run(pass == 0 ? "cold syncs after a restart" : "the same syncs, warm", accounts, 4,
          i -> new Request("POST", "/v1/sync", tokens[i], "{\"cursor\":\"" + cursors[i] + "\",\"limit\":200}"),
          (i, status, body) -> {
            if (status != 200) return "status " + status;
            JsonNode r = read(body);
            if (r.get("sessions").size() != 10) return "expected 10 sessions, got " + r.get("sessions").size();
            cursors[i] = r.get("cursor").asText();
            return null;
          });
      noteFailures(p);
      phases.add(p);
    }
    ObjectNode out = (ObjectNode) report.get("cold_accounts");
    out.put("accounts", accounts);
    out.put("sessions_per_account", sessions);
    out.set("cold", summary(List.of(phases.get(0))));
    out.set("warm", summary(List.of(phases.get(1))));
    row("5 cold accounts (1k sessions, after restart)", "sync p50/p99 ms", String.format("%.1f / %.1f", phases.get(0).percentileMs(50), phases.get(0).percentileMs(99)),
        String.format("%.1f / %.1f warm", phases.get(1).percentileMs(50), phases.get(1).percentileMs(99)), "");
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
    System.out.printf("%n%s; %s; %.1f minutes; figures in %s%s%n", report.get("date").asText(), report.get("machine").asText(), minutes, out,
        failures.isEmpty() ? "" : "; FAILURES: " + failures);
  }
}
