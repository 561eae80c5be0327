package imsync.multijvm;

import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestSettings;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One imsync node in its own JVM (the test classpath, {@code imsync.Main}), on ports derived from its index. */
final class NodeProcess {
  static final int HTTP_BASE = 18080;
  static final int REMOTE_BASE = 28520;
  static final int MANAGEMENT_BASE = 18558;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final int index;
  final int httpPort;
  final int remotePort;
  final int managementPort;
  private final String seedNodes;
  private Process process;

  NodeProcess(int index) {
    this(index, HTTP_BASE + index, REMOTE_BASE + index, MANAGEMENT_BASE + index, seeds());
  }

  /** A node on the given ports, joining the cluster through {@code seedNodes} (comma-separated addresses). */
  NodeProcess(int index, int httpPort, int remotePort, int managementPort, String seedNodes) {
    this.index = index;
    this.httpPort = httpPort;
    this.remotePort = remotePort;
    this.managementPort = managementPort;
    this.seedNodes = seedNodes;
  }

  /** The same node (ports, seeds) as a new process: a restart. */
  NodeProcess again() {
    return new NodeProcess(index, httpPort, remotePort, managementPort, seedNodes);
  }

  /** A port no one listens on now (the OS's choice), for a test cluster beside the fixed-port ones. */
  static int freePort() {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static String seeds() {
    return "akka://imsync@127.0.0.1:" + REMOTE_BASE + ",akka://imsync@127.0.0.1:" + (REMOTE_BASE + 1);
  }

  String address() {
    return "akka://imsync@127.0.0.1:" + remotePort;
  }

  Api api() {
    return new Api("http://127.0.0.1:" + httpPort);
  }

  NodeProcess start() {
    Path dir = LocalCassandra.projectDir();
    File log = dir.resolve("target/multi-jvm/node-" + index + (httpPort == HTTP_BASE + index ? "" : "-" + httpPort) + ".log").toFile();
    log.getParentFile().mkdirs();
    ProcessBuilder pb = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dlogback.configurationFile=" + dir.resolve("target/classes/logback.xml"),
        "-Dimsync.rate-limit.per-second=0",
        "-cp", System.getProperty("java.class.path"),
        "imsync.Main")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log));
    Map<String, String> env = pb.environment();
    env.put("IMSYNC_HTTP_PORT", Integer.toString(httpPort));
    env.put("IMSYNC_REMOTE_PORT", Integer.toString(remotePort));
    env.put("IMSYNC_MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("IMSYNC_SEED_NODES", seedNodes);
    env.put("IMSYNC_CASSANDRA", LocalCassandra.contactPoint());
    env.put("IMSYNC_AUTH_SECRET", TestSettings.SECRET);
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new IllegalStateException("could not start node " + index, e);
    }
    return this;
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  /** SIGKILL: no coordinated shutdown, no hand-off. */
  void kill9() {
    process.destroyForcibly();
    waitForExit(Duration.ofSeconds(20));
  }

  /** SIGTERM: coordinated shutdown (streams closed, shards handed off, leave the cluster). */
  void stop() {
    process.destroy();
    waitForExit(Duration.ofSeconds(60));
  }

  private void waitForExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) throw new AssertionError("node " + index + " did not exit");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Akka Management readiness: cluster member and Cassandra reachable. */
  boolean ready() {
    try {
      HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/ready"))
          .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  void awaitReady(Duration timeout) {
    await(this::ready, timeout, "node " + index + " to be ready");
  }

  static void await(java.util.function.BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // poll interval of the await
    }
  }
}
