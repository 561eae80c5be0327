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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One imsync node in its own JVM (the test classpath, {@code imsync.Main}), on ports derived from its index. */
final class NodeProcess {
  static final int HTTP_BASE = 18080;
  static final int REMOTE_BASE = 28520;
  static final int MANAGEMENT_BASE = 18558;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /**
   * Where a cluster's nodes run: port bases (node i: base + i), the Cassandra contact points and replication
   * factor, and, when {@code hostsFiles} is set, each node's canonical host name {@code imsync-node-i}
   * resolved through its own hosts file ({@code jdk.net.hosts.file}) so a test can route one node's traffic
   * through a proxy (FaultsMultiJvmTest's partition).
   */
  record Layout(int httpBase, int remoteBase, int managementBase, String cassandra, int replicationFactor, String logPrefix,
                java.util.function.IntFunction<Path> hostsFiles) {
    static Layout standard() {
      return new Layout(HTTP_BASE, REMOTE_BASE, MANAGEMENT_BASE, LocalCassandra.contactPoint(), 1, "node-", null);
    }

    String host(int index) {
      return hostsFiles == null ? "127.0.0.1" : "imsync-node-" + index;
    }

    String address(int index) {
      return "akka://imsync@" + host(index) + ":" + (remoteBase + index);
    }

    String seeds() {
      return address(0) + "," + address(1);
    }
  }

  final int index;
  final int httpPort;
  final int remotePort;
  final int managementPort;
  private final Layout layout;
  /** Seed nodes given with explicit ports (see the five-argument constructor); null: the layout's. */
  private final String seedNodes;
  private Process process;

  NodeProcess(int index) {
    this(index, Layout.standard());
  }

  NodeProcess(int index, Layout layout) {
    this.index = index;
    this.layout = layout;
    this.httpPort = layout.httpBase() + index;
    this.remotePort = layout.remoteBase() + index;
    this.managementPort = layout.managementBase() + index;
    this.seedNodes = null;
  }

  /** A node on the given ports (the standard layout otherwise), joining the cluster through {@code seedNodes}. */
  NodeProcess(int index, int httpPort, int remotePort, int managementPort, String seedNodes) {
    this.index = index;
    this.layout = Layout.standard();
    this.httpPort = httpPort;
    this.remotePort = remotePort;
    this.managementPort = managementPort;
    this.seedNodes = seedNodes;
  }

  /** The same node (ports, seeds) as a new process: a restart. */
  NodeProcess again() {
    return seedNodes == null ? new NodeProcess(index, layout) : new NodeProcess(index, httpPort, remotePort, managementPort, seedNodes);
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
    return Layout.standard().seeds();
  }

  String address() {
    return seedNodes == null ? layout.address(index) : "akka://imsync@" + layout.host(index) + ":" + remotePort;
  }

  /** The JVM's process id (the fault suite names the node it kills). */
  long pid() {
    return process.pid();
  }

  Api api() {
    return new Api("http://127.0.0.1:" + httpPort);
  }

  /** This node's log (appended to across restarts). */
  Path log() {
    String name = layout.logPrefix() + index + (seedNodes == null ? "" : "-" + httpPort);
    return LocalCassandra.projectDir().resolve("target/multi-jvm/" + name + ".log");
  }

  NodeProcess start() {
    File log = log().toFile();
    log.getParentFile().mkdirs();
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dlogback.configurationFile=" + LocalCassandra.projectDir().resolve("target/classes/logback.xml"),
        "-Dimsync.rate-limit.per-second=0"));
    if (layout.hostsFiles() != null) {
      command.add("-Djdk.net.hosts.file=" + layout.hostsFiles().apply(index));
      command.add("-Dakka.remote.artery.bind.hostname=127.0.0.1");
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "imsync.Main"));
    ProcessBuilder pb = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log));
    Map<String, String> env = pb.environment();
    env.put("IMSYNC_HTTP_PORT", Integer.toString(httpPort));
    env.put("IMSYNC_REMOTE_PORT", Integer.toString(remotePort));
    env.put("IMSYNC_MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("IMSYNC_SEED_NODES", seedNodes == null ? layout.seeds() : seedNodes);
    env.put("IMSYNC_REMOTE_HOST", layout.host(index));
    env.put("IMSYNC_CASSANDRA", layout.cassandra());
    env.put("IMSYNC_CASSANDRA_RF", Integer.toString(layout.replicationFactor()));
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
