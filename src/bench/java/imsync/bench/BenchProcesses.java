package imsync.bench;

import imsync.testkit.LocalCassandra;
import imsync.testkit.TestSettings;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The processes of a benchmark run, each on its own ports and folders under {@code target/bench}: a fresh
 * Cassandra, a fresh {@code redis-server} (Debian's package), and one imsync node in its own JVM with the
 * bench routes on. Separate processes, so each one's CPU time can be read from {@code /proc}.
 */
final class BenchProcesses implements AutoCloseable {
  static final int CQL_PORT = 29042;
  static final int REDIS_PORT = 26379;
  static final int HTTP_PORT = 38080;
  static final int STATIC_CEILING_PORT = 38090;
  /**
   * The node passivates an account idle this long (production: 10 minutes), so the cold-account scenario
   * can meet passivated accounts on a warm node; longer than a round of the throughput scenario, so the
   * hot accounts stay in memory while the other systems take their turn.
   */
  static final java.time.Duration PASSIVATE_IDLE = Duration.ofSeconds(60);
  private static final HttpClient PROBE = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final Path dir = LocalCassandra.projectDir().resolve("target/bench");
  private Process redis;
  private Process node;
  private Process staticCeiling;
  private boolean cassandraStarted;
  private boolean closed;
  final String nodeHeap;

  BenchProcesses(String nodeHeap) {
    this.nodeHeap = nodeHeap;
    for (int port : new int[] {CQL_PORT, REDIS_PORT, HTTP_PORT, STATIC_CEILING_PORT}) {
      if (listening(port)) {
        throw new IllegalStateException("port " + port + " is in use: is another benchmark run still going? Stop it first");
      }
    }
    // Ctrl-C or a failure still stops what this run started
    Runtime.getRuntime().addShutdownHook(new Thread(this::close, "bench-processes-stop"));
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 300);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  void startCassandra() throws IOException {
    deleteTree(dir.resolve("cassandra"));
    cassandraScript("start");
    cassandraStarted = true;
  }

  long cassandraPid() {
    try {
      return Long.parseLong(Files.readString(dir.resolve("cassandra/cassandra.pid")).trim());
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  void startRedis() throws IOException {
    Path data = dir.resolve("redis");
    deleteTree(data);
    Files.createDirectories(data);
    // Append-only file with fsync every second: the usual production setting of a Redis inbox.
    redis = new ProcessBuilder("redis-server", "--port", Integer.toString(REDIS_PORT), "--bind", "127.0.0.1",
        "--dir", data.toString(), "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
        "--protected-mode", "no")
        .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
    await(() -> redisPing(), Duration.ofSeconds(30), "redis-server to answer PING");
  }

  long redisPid() {
    return redis == null ? -1 : redis.pid();
  }

  static boolean redisPing() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", REDIS_PORT), 500);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[7];
      int n = in.readNBytes(buf, 0, 7);
      return n == 7 && new String(buf, StandardCharsets.US_ASCII).startsWith("+PONG");
    } catch (IOException e) {
      return false;
    }
  }

  void startNode() throws IOException {
    startNode(List.of("-Dakka.cluster.sharding.passivation.default-strategy.idle-entity.timeout=" + PASSIVATE_IDLE.toSeconds() + "s"));
  }

  /** The node with extra JVM options ({@code -Dkey=value} overrides config). */
  void startNode(List<String> options) throws IOException {
    Path log = dir.resolve("node.log");
    List<String> cmd = new ArrayList<>(jvm());
    cmd.addAll(options);
    cmd.addAll(List.of(
        "-Dlogback.configurationFile=" + LocalCassandra.projectDir().resolve("target/classes/logback.xml"),
        "-Dimsync.rate-limit.per-second=0",
        // extra node JVM options for a run, e.g. -Dbench.node.opts=-XX:StartFlightRecording=filename=x.jfr
        System.getProperty("bench.node.opts", "-Dimsync.bench.node=true"),
        "-cp", System.getProperty("java.class.path"),
        BenchNode.class.getName()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Map<String, String> env = pb.environment();
    env.put("IMSYNC_HTTP_PORT", Integer.toString(HTTP_PORT));
    env.put("IMSYNC_REMOTE_PORT", "38520");
    env.put("IMSYNC_MANAGEMENT_PORT", "38558");
    env.put("IMSYNC_CASSANDRA", "127.0.0.1:" + CQL_PORT);
    env.put("IMSYNC_AUTH_SECRET", TestSettings.SECRET);
    env.put("IMSYNC_BENCH_REDIS_PORT", Integer.toString(REDIS_PORT));
    node = pb.start();
    await(this::nodeReady, Duration.ofSeconds(180), "the imsync node to be ready");
    // readiness comes from Akka Management; the API port binds a moment later
    await(this::apiBound, Duration.ofSeconds(60), "the imsync API port");
  }

  /** The java command and the JVM flags of the node, which the static ceiling's JVM shares. */
  List<String> jvm() {
    return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xms" + nodeHeap, "-Xmx" + nodeHeap, System.getProperty("bench.node.gc", "-XX:+UseParallelGC"));
  }

  /** Plain Akka HTTP answering {@code bytes} static bytes on {@link #STATIC_CEILING_PORT}, in its own JVM. */
  void startStaticCeiling(int bytes) throws IOException {
    stopStaticCeiling();
    List<String> cmd = new ArrayList<>(jvm());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), StaticCeiling.class.getName(),
        Integer.toString(STATIC_CEILING_PORT), Integer.toString(bytes)));
    staticCeiling = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("static-ceiling.log").toFile())).start();
    await(() -> {
      if (!staticCeiling.isAlive()) throw new IllegalStateException("the static ceiling exited; see " + dir.resolve("static-ceiling.log"));
      return listening(STATIC_CEILING_PORT);
    }, Duration.ofSeconds(60), "the static ceiling's port");
  }

  long staticCeilingPid() {
    return staticCeiling == null ? -1 : staticCeiling.pid();
  }

  void stopStaticCeiling() {
    if (staticCeiling == null) return;
    stop(staticCeiling);
    staticCeiling = null;
  }

  private static void stop(Process p) {
    p.destroy();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }

  private boolean apiBound() {
    return listening(HTTP_PORT);
  }

  long nodePid() {
    return node == null ? -1 : node.pid();
  }

  String nodeBase() {
    return "http://127.0.0.1:" + HTTP_PORT;
  }

  private boolean nodeReady() {
    if (node != null && !node.isAlive()) throw new IllegalStateException("the imsync node exited; see " + dir.resolve("node.log"));
    try {
      HttpResponse<Void> r = PROBE.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:38558/ready"))
          .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Stops the node (SIGTERM, then its coordinated shutdown), so a restart meets every account cold. */
  void stopNode() {
    if (node != null) stop(node);
    node = null;
  }

  /** The node's live class histogram (a full GC first), as jcmd prints it. */
  String nodeHistogram() throws IOException, InterruptedException {
    return jcmd("GC.class_histogram");
  }

  /** Cassandra's nodetool on the bench instance (the server's own jars), e.g. flush or compact; its output. */
  String nodetool(String... args) throws IOException, InterruptedException {
    Path lib = LocalCassandra.projectDir().resolve("cassandra/lib");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", lib + "/*", "-Dlogback.configurationFile=" + LocalCassandra.projectDir().resolve("cassandra/conf/logback.xml")));
    // the server's module flags (--add-exports/--add-opens): nodetool loads the same classes
    for (String line : Files.readAllLines(LocalCassandra.projectDir().resolve("cassandra/conf/jvm.options"))) {
      if (line.startsWith("--add-")) cmd.add(line.trim());
    }
    cmd.addAll(List.of("org.apache.cassandra.tools.NodeTool", "-h", "127.0.0.1", "-p", "29199"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) throw new IOException("nodetool " + String.join(" ", args) + " failed: " + out);
    return out;
  }

  /** Bytes on disk of a keyspace of the bench Cassandra (its data files). */
  long keyspaceBytes(String keyspace) throws IOException {
    Path ks = dir.resolve("cassandra/data").resolve(keyspace);
    if (!Files.exists(ks)) return 0;
    try (var walk = Files.walk(ks)) {
      return walk.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    }
  }

  /** Live heap of the node: {@code jcmd GC.class_histogram} collects first, then counts what is reachable. */
  long nodeHeapUsedAfterGc() throws IOException, InterruptedException {
    String histogram = jcmd("GC.class_histogram");
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)").matcher(histogram);
    if (!m.find()) throw new IllegalStateException("unexpected GC.class_histogram output: " + histogram.lines().limit(5).toList());
    return Long.parseLong(m.group(1));
  }

  private String jcmd(String command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(node.pid()), command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  /** CPU time (user + system) of a process so far, in nanoseconds, from /proc/[pid]/stat (100 ticks/s). */
  static long cpuNanos(long pid) {
    if (pid <= 0) return 0;
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
      return ticks * 10_000_000L;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    stopStaticCeiling();
    if (node != null) stop(node);
    if (redis != null) stop(redis);
    if (cassandraStarted) {
      try {
        cassandraScript("stop");
      } catch (IOException e) {
        System.err.println("could not stop the bench Cassandra: " + e);
      }
    }
  }

  private void cassandraScript(String script) throws IOException {
    Path root = LocalCassandra.projectDir();
    ProcessBuilder pb = new ProcessBuilder(root.resolve("cassandra/bin/" + script).toString())
        .directory(root.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(new File(dir.toFile(), "cassandra-scripts.log")));
    Files.createDirectories(dir);
    Map<String, String> env = pb.environment();
    env.put("CASSANDRA_DATA", dir.resolve("cassandra").toString());
    env.put("CASSANDRA_CQL_PORT", Integer.toString(CQL_PORT));
    env.put("CASSANDRA_STORAGE_PORT", "29000");
    env.put("CASSANDRA_JMX_PORT", "29199");
    env.put("CASSANDRA_HEAP", "2g");
    try {
      int rc = pb.start().waitFor();
      if (rc != 0) throw new IOException("cassandra/bin/" + script + " exited " + rc + "; see " + dir.resolve("cassandra-scripts.log"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  static void await(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("timed out waiting for " + what);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // poll interval of the await
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (var walk = Files.walk(p)) {
      for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(x);
    }
  }
}
