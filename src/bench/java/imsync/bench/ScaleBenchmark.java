package imsync.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.testkit.Api;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * {@code ./imsync bench scale [ACCOUNTS ...]} (default 10,000 100,000 1,000,000): issue 15's run. One node and
 * one Cassandra on this machine. Accounts are added in stages; each account is in 3 group chats of 100 members
 * and every chat gets a message per round, fanned out by 16 clients in calls of 10 events (1,000 deliveries).
 * Per stage: fan-out into the new accounts, then into the same (existing) accounts, each beside raw Cassandra
 * inserts of as many journal-shaped rows at the same concurrency (16 writers of 1,000 rows in flight, through a
 * driver with imsync's throttler); the node's live heap per active account after a full GC; first syncs of
 * 2,000 random accounts by 16 clients. Then flush and compaction (bytes per session on disk), a node restart,
 * and first syncs of accounts not in memory (5 sessions and 1,000 sessions). Writes a PNG of the figures per
 * stage (docs/scale.png) and target/bench/scale.json. Clients resend only what a 503 names, after Retry-After.
 */
public final class ScaleBenchmark {
  static final int CLIENTS = 16;
  static final int MEMBERS = 100;
  static final int CHATS_PER_ACCOUNT = 3;
  static final int EVENTS_PER_CALL = 10;
  static final Duration CALL_BOUND = Duration.ofSeconds(10);
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final long T0 = 1_760_000_000_000L;

  final BenchProcesses procs;
  final String base;
  final ObjectNode report = JSON.createObjectNode();

  ScaleBenchmark(BenchProcesses procs) {
    this.procs = procs;
    this.base = procs.nodeBase();
  }

  /** One round of fan-out: what the clients saw. */
  record Round(String name, long deliveries, double seconds, int calls, int answers503, long resent, long slowest, int unanswered) {
    double perSecond() {
      return deliveries / seconds;
    }
  }

  record Stage(int accounts, Round intoNew, double rawNew, Round intoExisting, double rawExisting, double heapPerAccount,
               double syncP50, double syncP99, double syncMax, int syncNot200, int syncOver1s) {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--plot")) {
      replot(Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    int[] stages = args.length == 0 ? new int[] {10_000, 100_000, 1_000_000} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
    for (int s : stages) if (s % MEMBERS != 0) throw new IllegalArgumentException("stages must be multiples of " + MEMBERS);
    int largest = Arrays.stream(stages).max().orElseThrow();
    String heap = System.getProperty("bench.node.heap", largest > 200_000 ? "14g" : "6g");
    // G1, the JVM's default and what a production node runs: with gigabytes of live accounts the parallel
    // collector's full collections pause the node for seconds, longer than a call may take
    System.setProperty("bench.node.gc", System.getProperty("bench.node.gc", "-XX:+UseG1GC"));
    List<String> nodeOptions = List.of(
        // every account of the run stays active: the heap figure is per active account
        "-Dakka.cluster.sharding.passivation.default-strategy.active-entity-limit=" + (largest + 200_000),
        "-Dakka.cluster.sharding.passivation.default-strategy.idle-entity.timeout=3h");
    try (BenchProcesses procs = new BenchProcesses(heap)) {
      System.out.printf("# imsync scale benchmark: stages %s, node heap %s, %d cores, %s%n", Arrays.toString(stages), heap,
          Runtime.getRuntime().availableProcessors(), java.time.Instant.now());
      procs.startCassandra();
      // The node creates its keyspaces and tables on first use (dev config). On this busy 2-core machine a
      // schema statement can take longer than the driver's 5 s request timeout, and a journal whose tables
      // were never made fails every recovery: create them first with a patient driver, then run as configured
      // (production applies cassandra/schema/*.cql instead).
      List<String> patient = new ArrayList<>(nodeOptions);
      patient.add("-Ddatastax-java-driver.basic.request.timeout=60s");
      procs.startNode(patient);
      new ScaleBenchmark(procs).fanOutTo("schema (not counted)", "schema-", 1, "schema", 1);
      procs.stopNode();
      procs.startNode(nodeOptions);
      new ScaleBenchmark(procs).run(stages, nodeOptions);
    }
  }

  void run(int[] stages, List<String> nodeOptions) throws Exception {
    // warm-up (not counted) and the accounts the cold syncs will read after the restart
    fanOut("warm-up", "w", 0, 2_000, 1);
    int cold5 = 2_000;
    for (int k = 0; k < 5; k++) fanOutTo("cold 5-session accounts", "c5-", cold5, "c5chat" + k, 1);
    int cold1k = 48;
    calls("cold 1,000-session accounts", 100, call -> {
      ArrayNode events = JSON.createArrayNode();
      for (int e = 0; e < 10; e++) events.add(event("big" + (call * 10 + e), 1, ids("c1k-", 0, cold1k)));
      return events;
    }, 1_000L * cold1k);
    long heapBase = procs.nodeHeapUsedAfterGc();
    System.out.printf("live heap before the stages: %,d B%n", heapBase);

    List<Stage> done = new ArrayList<>();
    int from = 0;
    try (CqlSession raw = rawSession()) {
      raw.execute("CREATE KEYSPACE IF NOT EXISTS bench_raw WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
      raw.execute("CREATE TABLE IF NOT EXISTS bench_raw.messages (persistence_id text, partition_nr bigint, sequence_nr bigint, "
          + "timestamp timeuuid, timebucket text, writer_uuid text, ser_id int, ser_manifest text, event_manifest text, event blob, "
          + "PRIMARY KEY ((persistence_id, partition_nr), sequence_nr, timestamp))");
      PreparedStatement insert = raw.prepare("INSERT INTO bench_raw.messages (persistence_id, partition_nr, sequence_nr, timestamp, "
          + "timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event) VALUES (?, 0, ?, now(), '19700101T00', ?, 33, ?, '', ?)");
      for (int target : stages) {
        System.out.printf("%n## stage: %,d accounts (%,d new)%n", target, target - from);
        Round intoNew = fanOut("fan-out into new accounts", "a", from, target, 1);
        double rawNew = rawInserts(raw, insert, from, target, 1);
        Round intoExisting = fanOut("fan-out into existing accounts", "a", from, target, 2);
        double rawExisting = rawInserts(raw, insert, from, target, 2);
        double heapPerAccount = (procs.nodeHeapUsedAfterGc() - heapBase) / (double) target;
        double[] sync = firstSyncs(target);
        Stage st = new Stage(target, intoNew, rawNew, intoExisting, rawExisting, heapPerAccount, sync[0], sync[1], sync[2],
            (int) sync[3], (int) sync[4]);
        done.add(st);
        print(st);
        from = target;
      }
    }
    String histogram = procs.nodeHistogram();
    System.out.println("\n## live heap by class with every account active (top rows of GC.class_histogram)");
    histogram.lines().limit(28).forEach(System.out::println);

    // disk: flush and compact, then the data files of the journal and snapshot keyspaces per session
    procs.nodetool("flush");
    procs.nodetool("compact", "imsync");
    procs.nodetool("compact", "imsync_snapshot");
    long journal = procs.keyspaceBytes("imsync");
    long snapshots = procs.keyspaceBytes("imsync_snapshot");
    long sessions = (long) from * CHATS_PER_ACCOUNT + 2_000L * CHATS_PER_ACCOUNT + cold5 * 5L + cold1k * 1_000L;
    System.out.printf("%n## disk after flush and compaction: journal %,d B, snapshots %,d B, %,d sessions: %.0f B per session%n",
        journal, snapshots, sessions, (journal + snapshots) / (double) sessions);

    // cold: a restarted node, accounts read from their snapshot and journal on the first sync
    procs.stopNode();
    procs.startNode(nodeOptions);
    // a restarted JVM is cold too: warm the recovery path on other accounts first (not counted)
    syncs(ids("w", 0, 1_000));
    double[] c5 = coldSyncs("c5-", cold5);
    double[] c1k = coldSyncs("c1k-", cold1k);
    System.out.printf("%n## cold first sync after a restart, %d clients: 5 sessions p50 %.1f ms p99 %.1f ms (goal p99 <= 20 ms); "
        + "1,000 sessions p50 %.1f ms p99 %.1f ms (goal p99 <= 30 ms)%n", CLIENTS, c5[0], c5[1], c1k[0], c1k[1]);

    ObjectNode out = report.putObject("scale");
    ArrayNode rows = out.putArray("stages");
    for (Stage s : done) rows.addPOJO(s);
    out.put("journal_bytes", journal);
    out.put("snapshot_bytes", snapshots);
    out.put("sessions", sessions);
    out.put("cold5_p50_ms", c5[0]);
    out.put("cold5_p99_ms", c5[1]);
    out.put("cold1000_p50_ms", c1k[0]);
    out.put("cold1000_p99_ms", c1k[1]);
    Path json = procs.dir.resolve("scale.json");
    Files.writeString(json, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
    Path png = Path.of(System.getProperty("imsync.project.dir", ".")).resolve(System.getProperty("bench.scale.png", "docs/scale.png"));
    plot(done, png.toFile());
    System.out.printf("%nwrote %s and %s%n", json, png);
  }

  void print(Stage s) {
    System.out.printf("| %,d accounts | into new: %,.0f deliveries/s (raw %,.0f rows/s: %.2f) | into existing: %,.0f/s (raw %,.0f: %.2f) |%n",
        s.accounts(), s.intoNew().perSecond(), s.rawNew(), s.intoNew().perSecond() / s.rawNew(), s.intoExisting().perSecond(),
        s.rawExisting(), s.intoExisting().perSecond() / s.rawExisting());
    for (Round r : List.of(s.intoNew(), s.intoExisting())) {
      System.out.printf("|   %s: %,d calls, %,d answers 503, %,d deliveries resent (%.1f%%), slowest answer %,d ms, %d unanswered in 10 s |%n",
          r.name(), r.calls(), r.answers503(), r.resent(), 100.0 * r.resent() / r.deliveries(), r.slowest(), r.unanswered());
    }
    System.out.printf("|   live heap %,.0f B per active account | first sync of 2,000 random accounts: p50 %.1f ms, p99 %.1f ms, max %.0f ms, "
        + "%d not 200, %d over 1 s |%n", s.heapPerAccount(), s.syncP50(), s.syncP99(), s.syncMax(), s.syncNot200(), s.syncOver1s());
  }

  // ------------------------------------------------------------------------------------------ fan-out

  /**
   * Account i of [from, to) (ids prefix + i) is in 3 chats: layer L puts it in block (perm_L(i) / 100), with
   * perm_0 the identity and perm_1, perm_2 multiplications by primes mod n: every account is in exactly 3
   * chats of 100, and two chats share few members.
   */
  Round fanOut(String name, String prefix, int from, int to, long seq) throws Exception {
    int n = to - from;
    int blocks = n / MEMBERS;
    int chats = blocks * CHATS_PER_ACCOUNT;
    int calls = (chats + EVENTS_PER_CALL - 1) / EVENTS_PER_CALL;
    long[] primes = {1, 7919, 104_729};
    return calls(name, calls, call -> {
      ArrayNode events = JSON.createArrayNode();
      for (int c = call * EVENTS_PER_CALL; c < Math.min(chats, (call + 1) * EVENTS_PER_CALL); c++) {
        int layer = c / blocks;
        int block = c % blocks;
        List<String> members = new ArrayList<>(MEMBERS);
        for (int m = 0; m < MEMBERS; m++) {
          long i = block * (long) MEMBERS + m;
          long perm = layer == 0 ? i : (i * primes[layer] + layer) % n;
          members.add(prefix + (from + perm));
        }
        events.add(event(prefix + from + "-" + to + "-chat" + c, seq, members));
      }
      return events;
    }, n * (long) CHATS_PER_ACCOUNT);
  }

  /** One message in {@code chat} to accounts prefix0 .. prefix(n-1), in calls of 1,000 recipients. */
  void fanOutTo(String name, String prefix, int n, String chat, long seq) throws Exception {
    calls(name, (n + 999) / 1000, call -> {
      ArrayNode events = JSON.createArrayNode();
      events.add(event(chat, seq, ids(prefix, call * 1000, Math.min(n, call * 1000 + 1000))));
      return events;
    }, n);
  }

  static List<String> ids(String prefix, int from, int to) {
    List<String> out = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) out.add(prefix + i);
    return out;
  }

  static ObjectNode event(String chat, long seq, List<String> members) {
    ObjectNode e = JSON.createObjectNode();
    e.put("type", "message");
    ArrayNode ids = e.putArray("account_ids");
    members.forEach(ids::add);
    e.put("session_id", chat);
    e.put("session_kind", "group");
    e.put("title", "Group " + chat);
    e.put("seq", seq);
    e.put("sender_id", "member" + (seq % 100));
    e.put("preview", "see you at the standup in five minutes");
    e.put("ts", T0 + seq);
    return e;
  }

  /** {@code calls} calls from 16 clients; each is resent (only what its 503 names) until stored. */
  Round calls(String name, int calls, IntFunction<ArrayNode> eventsOf, long deliveries) throws Exception {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger answers503 = new AtomicInteger();
    AtomicInteger unanswered = new AtomicInteger();
    AtomicLong resent = new AtomicLong();
    AtomicLong slowest = new AtomicLong();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    long t0 = System.nanoTime();
    List<Future<?>> all = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      all.add(clients.submit(() -> {
        for (int call = next.getAndIncrement(); call < calls; call = next.getAndIncrement()) {
          ArrayNode pending = eventsOf.apply(call);
          for (int attempt = 0; pending.size() > 0; attempt++) {
            if (attempt > 0) resent.addAndGet(deliveriesIn(pending));
            if (attempt == 200) throw new IllegalStateException(name + ": a call was not stored after 200 resends");
            long start = System.nanoTime();
            HttpResponse<String> r;
            try {
              ObjectNode body = JSON.createObjectNode();
              body.set("events", pending);
              r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/ingest")).timeout(CALL_BOUND)
                  .header("Authorization", "Bearer " + Api.serviceToken()).header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
            } catch (java.net.http.HttpTimeoutException e) {
              unanswered.incrementAndGet();
              continue; // no answer within the bound: resend all of it
            }
            slowest.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), Math::max);
            if (r.statusCode() == 200) break;
            if (r.statusCode() != 503) throw new IllegalStateException(name + ": status " + r.statusCode() + " " + r.body());
            answers503.incrementAndGet();
            pending = narrowed(pending, JSON.readTree(r.body()).get("retry"));
            TimeUnit.SECONDS.sleep(Long.parseLong(r.headers().firstValue("Retry-After").orElse("1")));
          }
        }
        return null;
      }));
    }
    for (Future<?> f : all) f.get();
    clients.shutdown();
    double seconds = (System.nanoTime() - t0) / 1e9;
    Round r = new Round(name, deliveries, seconds, calls, answers503.get(), resent.get(), slowest.get(), unanswered.get());
    System.out.printf("  %s: %,d deliveries in %.1f s: %,.0f/s (%d answers 503, %,d resent, slowest %,d ms, %d unanswered in 10 s)%n", name,
        deliveries, seconds, r.perSecond(), r.answers503(), r.resent(), r.slowest(), r.unanswered());
    return r;
  }

  static long deliveriesIn(ArrayNode events) {
    long n = 0;
    for (JsonNode e : events) n += e.get("account_ids").size();
    return n;
  }

  /** The events a 503 names, each with just the recipients it names; without a list, all of them. */
  static ArrayNode narrowed(ArrayNode sent, JsonNode retry) {
    if (retry == null) return sent;
    ArrayNode next = JSON.createArrayNode();
    for (JsonNode r : retry) {
      ObjectNode e = ((ObjectNode) sent.get(r.get("event").asInt())).deepCopy();
      e.set("account_ids", r.get("account_ids"));
      next.add(e);
    }
    return next;
  }

  // ------------------------------------------------------------------------------------------ raw inserts

  static CqlSession rawSession() {
    // the same bound on requests in flight as imsync's sessions (persistence.conf)
    DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
        .withString(DefaultDriverOption.REQUEST_THROTTLER_CLASS, "ConcurrencyLimitingRequestThrottler")
        .withInt(DefaultDriverOption.REQUEST_THROTTLER_MAX_CONCURRENT_REQUESTS, 512)
        .withInt(DefaultDriverOption.REQUEST_THROTTLER_MAX_QUEUE_SIZE, 20_000)
        .withInt(DefaultDriverOption.CONNECTION_POOL_LOCAL_SIZE, 2)
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(10))
        .build();
    return CqlSession.builder().withConfigLoader(config)
        .addContactPoint(new InetSocketAddress("127.0.0.1", BenchProcesses.CQL_PORT)).withLocalDatacenter("datacenter1").build();
  }

  /** As many journal-shaped rows as the round's deliveries, 16 writers of 1,000 rows in flight; rows/s. */
  double rawInserts(CqlSession cql, PreparedStatement insert, int from, int to, long seq) throws Exception {
    long rows = (to - from) * (long) CHATS_PER_ACCOUNT;
    byte[] event = new byte[180];
    Arrays.fill(event, (byte) 7);
    String writer = UUID.randomUUID().toString();
    AtomicLong next = new AtomicLong();
    ExecutorService writers = Executors.newFixedThreadPool(CLIENTS);
    long t0 = System.nanoTime();
    List<Future<?>> all = new ArrayList<>();
    for (int w = 0; w < CLIENTS; w++) {
      all.add(writers.submit(() -> {
        for (long start = next.getAndAdd(1000); start < rows; start = next.getAndAdd(1000)) {
          List<CompletableFuture<?>> call = new ArrayList<>(1000);
          for (long k = start; k < Math.min(rows, start + 1000); k++) {
            long account = from + k / CHATS_PER_ACCOUNT;
            long sequenceNr = (seq - 1) * CHATS_PER_ACCOUNT + k % CHATS_PER_ACCOUNT + 1;
            call.add(cql.executeAsync(insert.bind("Account|raw" + account, sequenceNr, writer,
                "imsync.core.AccountEvent$MessageIngested", ByteBuffer.wrap(event))).toCompletableFuture());
          }
          CompletableFuture.allOf(call.toArray(CompletableFuture[]::new)).join();
        }
        return null;
      }));
    }
    for (Future<?> f : all) f.get();
    writers.shutdown();
    double perSecond = rows / ((System.nanoTime() - t0) / 1e9);
    System.out.printf("  raw inserts of the same %,d rows: %,.0f rows/s%n", rows, perSecond);
    return perSecond;
  }

  // ------------------------------------------------------------------------------------------ syncs

  /** First syncs of 2,000 random accounts of the run, 16 clients: p50, p99, max (ms), not-200 count, over-1-s count. */
  double[] firstSyncs(int accounts) throws Exception {
    Random rnd = new Random(accounts);
    List<String> sample = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) sample.add("a" + rnd.nextInt(accounts));
    return syncs(sample);
  }

  double[] coldSyncs(String prefix, int n) throws Exception {
    List<String> sample = ids(prefix, 0, n);
    java.util.Collections.shuffle(sample, new Random(7));
    double[] r = syncs(sample);
    if (r[3] > 0) System.out.printf("  %s: %d first syncs were not 200%n", prefix, (int) r[3]);
    return r;
  }

  double[] syncs(List<String> accounts) throws Exception {
    long[] lat = new long[accounts.size()];
    AtomicInteger next = new AtomicInteger();
    AtomicInteger not200 = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> all = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      all.add(clients.submit(() -> {
        for (int i = next.getAndIncrement(); i < accounts.size(); i = next.getAndIncrement()) {
          long start = System.nanoTime();
          try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/sync")).timeout(CALL_BOUND)
                .header("Authorization", "Bearer " + Api.deviceToken(accounts.get(i), "bench"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"cursor\":null,\"limit\":1000}")).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) not200.incrementAndGet();
          } catch (java.net.http.HttpTimeoutException e) {
            not200.incrementAndGet();
          }
          lat[i] = System.nanoTime() - start;
        }
        return null;
      }));
    }
    for (Future<?> f : all) f.get();
    clients.shutdown();
    long[] sorted = lat.clone();
    Arrays.sort(sorted);
    long over1s = Arrays.stream(sorted).filter(x -> x > TimeUnit.SECONDS.toNanos(1)).count();
    return new double[] {ms(sorted, 0.50), ms(sorted, 0.99), sorted[sorted.length - 1] / 1e6, not200.get(), over1s};
  }

  static double ms(long[] sorted, double q) {
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] / 1e6;
  }

  // ------------------------------------------------------------------------------------------ plot

  /**
   * {@code --plot ACCOUNTS,NEW/S,EXISTING/S,RAW/S,HEAP,P99 ...}: draws the PNG again from a run's printed
   * figures (one argument per stage), for a run whose PNG a later, smaller run overwrote.
   */
  static void replot(String[] stages) throws java.io.IOException {
    List<Stage> rows = new ArrayList<>();
    for (String st : stages) {
      double[] f = Arrays.stream(st.split(",")).mapToDouble(Double::parseDouble).toArray();
      Round intoNew = new Round("into new", (long) f[1], 1, 0, 0, 0, 0, 0);
      Round intoExisting = new Round("into existing", (long) f[2], 1, 0, 0, 0, 0, 0);
      rows.add(new Stage((int) f[0], intoNew, 0, intoExisting, f[3], f[4], 0, f[5], 0, 0, 0));
    }
    Path png = Path.of(System.getProperty("imsync.project.dir", ".")).resolve(System.getProperty("bench.scale.png", "docs/scale.png"));
    plot(rows, png.toFile());
    System.out.println("wrote " + png);
  }

  private static void addMeasured(XYSeries series, double x, double y) {
    if (y > 0 && Double.isFinite(y)) series.add(x, y);
  }

  static void plot(List<Stage> stages, File png) throws java.io.IOException {
    XYSeries intoNew = new XYSeries("into new accounts");
    XYSeries intoExisting = new XYSeries("into existing accounts");
    XYSeries rawSeries = new XYSeries("raw inserts (existing round)");
    XYSeries heap = new XYSeries("live heap per active account");
    XYSeries p99 = new XYSeries("first sync p99 (16 clients)");
    for (Stage s : stages) {
      // a figure a stage did not measure (0; "0" on the --plot line) is left out, not drawn at zero
      addMeasured(intoNew, s.accounts(), s.intoNew().perSecond());
      addMeasured(intoExisting, s.accounts(), s.intoExisting().perSecond());
      addMeasured(rawSeries, s.accounts(), s.rawExisting());
      addMeasured(heap, s.accounts(), s.heapPerAccount());
      addMeasured(p99, s.accounts(), s.syncP99());
    }
    LogAxis accounts = new LogAxis("active accounts");
    accounts.setBase(10);
    accounts.setNumberFormatOverride(new java.text.DecimalFormat("#,###"));
    double lo = stages.stream().mapToDouble(Stage::accounts).min().orElse(1);
    double hi = stages.stream().mapToDouble(Stage::accounts).max().orElse(10);
    accounts.setRange(lo / 2, hi * 2);
    CombinedDomainXYPlot plot = new CombinedDomainXYPlot(accounts);
    plot.add(subplot(new NumberAxis("deliveries / s"), intoNew, intoExisting, rawSeries), 2);
    plot.add(subplot(new NumberAxis("bytes"), heap), 1);
    plot.add(subplot(new NumberAxis("ms"), p99), 1);
    JFreeChart chart = new JFreeChart("imsync on one node (2 cores): fan-out, heap and sync as accounts grow", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    png.getParentFile().mkdirs();
    ChartUtils.saveChartAsPNG(png, chart, 900, 900);
  }

  static XYPlot subplot(NumberAxis axis, XYSeries... series) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (XYSeries s : series) data.addSeries(s);
    axis.setAutoRangeIncludesZero(true);
    return new XYPlot(data, null, axis, new XYLineAndShapeRenderer(true, true));
  }
}
