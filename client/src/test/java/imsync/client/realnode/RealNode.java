package imsync.client.realnode;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A real imsync node in its own JVM, started from the server project's build ({@code target/classes} and
 * {@code target/classpath.txt}, as the {@code imsync} launcher runs it), against a real Cassandra on the test
 * port (started here through {@code cassandra/bin/start} when none answers, and stopped again by
 * {@link #stopCassandraIfStartedHere()}). Ports are free ones picked at random.
 */
public final class RealNode {
  public static final String SECRET = "client-chaos-secret";
  static final Path SERVER_DIR = Path.of(System.getProperty("imsync.server.dir", "..")).toAbsolutePath().normalize();
  static final int CASSANDRA_PORT = Integer.getInteger("imsync.test.cassandra.port", 19042);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static boolean cassandraStartedHere;

  public final int httpPort = freePort();
  private final int remotePort = freePort();
  private final int managementPort = freePort();
  private Process process;

  public String url() {
    return "http://127.0.0.1:" + httpPort;
  }

  public static synchronized void ensureCassandra() {
    if (listening(CASSANDRA_PORT)) return;
    cassandra("start");
    cassandraStartedHere = true;
  }

  public static synchronized void stopCassandraIfStartedHere() {
    if (!cassandraStartedHere) return;
    cassandra("stop");
    cassandraStartedHere = false;
  }

  private static void cassandra(String script) {
    ProcessBuilder pb = new ProcessBuilder(SERVER_DIR.resolve("cassandra/bin/" + script).toString())
        .directory(SERVER_DIR.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile("cassandra-scripts.log")));
    Map<String, String> env = pb.environment();
    // the server tests' scheme (storage and JMX ports below the CQL port), in a data dir of the client tests' own
    env.put("CASSANDRA_DATA", SERVER_DIR.resolve("target/cassandra-client-test").toString());
    env.put("CASSANDRA_CQL_PORT", Integer.toString(CASSANDRA_PORT));
    env.put("CASSANDRA_STORAGE_PORT", Integer.toString(CASSANDRA_PORT - 2000 + 1));
    env.put("CASSANDRA_JMX_PORT", Integer.toString(CASSANDRA_PORT - 2000 + 2));
    env.putIfAbsent("CASSANDRA_HEAP", "768m");
    run(pb, "cassandra/bin/" + script);
  }

  private static void run(ProcessBuilder pb, String what) {
    try {
      int code = pb.start().waitFor();
      if (code != 0) throw new IllegalStateException(what + " exited " + code + "; see client/target/" + "realnode logs");
    } catch (IOException e) {
      throw new IllegalStateException("could not run " + what, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static File logFile(String name) {
    File dir = new File("target/realnode");
    dir.mkdirs();
    return new File(dir, name);
  }

  /** The server's runtime class path; built (as the launcher builds it) when the server project has none yet. */
  static synchronized String serverClasspath() throws IOException {
    Path cp = SERVER_DIR.resolve("target/classpath.txt");
    if (!Files.exists(cp) || !Files.isDirectory(SERVER_DIR.resolve("target/classes/imsync"))) {
      ProcessBuilder pb = new ProcessBuilder(System.getenv().getOrDefault("MVN", "mvn"), "-q", "-B", "-DskipTests", "package",
          "dependency:build-classpath", "-Dmdep.outputFile=target/classpath.txt", "-Dmdep.includeScope=runtime")
          .directory(SERVER_DIR.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile("server-build.log")));
      run(pb, "the server build");
    }
    return SERVER_DIR.resolve("target/classes") + File.pathSeparator + Files.readString(cp).trim();
  }

  public RealNode start() throws IOException {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dlogback.configurationFile=" + SERVER_DIR.resolve("target/classes/logback.xml"),
        "-Dimsync.rate-limit.per-second=0",
        "-cp", serverClasspath(), "imsync.Main")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile("node-" + httpPort + ".log")));
    Map<String, String> env = pb.environment();
    env.put("IMSYNC_HTTP_PORT", Integer.toString(httpPort));
    env.put("IMSYNC_REMOTE_PORT", Integer.toString(remotePort));
    env.put("IMSYNC_MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("IMSYNC_SEED_NODES", "akka://imsync@127.0.0.1:" + remotePort);
    env.put("IMSYNC_CASSANDRA", "127.0.0.1:" + CASSANDRA_PORT);
    env.put("IMSYNC_AUTH_SECRET", SECRET);
    process = pb.start();
    return this;
  }

  /** SIGKILL: no coordinated shutdown, streams cut as by a crash. */
  public void kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("the node did not exit");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  public boolean ready() {
    try {
      HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/ready"))
          .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public void awaitReady(Duration timeout) {
    await(() -> {
      if (!process.isAlive()) throw new AssertionError("the node exited; see " + logFile("node-" + httpPort + ".log"));
      return ready();
    }, timeout, "the node to be ready");
  }

  public static void await(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // poll interval of the await
    }
  }

  static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An HS256 token as the server's {@code Auth.issue} makes it. */
  public static String token(String scope, String account, String device) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String header = b64.encodeToString("{\"alg\":\"HS256\"}".getBytes(StandardCharsets.UTF_8));
    StringBuilder claims = new StringBuilder("{\"scope\":\"" + scope + "\",\"exp\":" + (System.currentTimeMillis() / 1000 + 3600));
    if (account != null) claims.append(",\"sub\":\"").append(account).append('"');
    if (device != null) claims.append(",\"dev\":\"").append(device).append('"');
    claims.append('}');
    String input = header + "." + b64.encodeToString(claims.toString().getBytes(StandardCharsets.UTF_8));
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return input + "." + b64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
