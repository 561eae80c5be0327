package imsync.bench;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * The load generator: HTTP/1.1 keep-alive requests with a fixed number in flight (closed loop), each
 * request built from the answer of the previous one of its account (a sync sends the cursor it got), and
 * each answer checked. A non-200 answer or a failed check counts as a failure, never as speed.
 *
 * <p>Why a Java client and not wrk: a sync's body depends on the previous answer of the same account,
 * and every answer is checked against what was ingested; wrk's Lua hooks cannot tie an answer to its
 * request across connections. The client's own CPU share is measured and reported with every figure.
 */
final class LoadClient {
  record Request(String method, String path, String token, String body) {}

  /** A check of one answer: returns null when fine, else what is wrong. */
  interface Check {
    String check(int index, int status, byte[] body);
  }

  record Phase(String name, int requests, int failures, String firstFailure, long wallNanos, long[] latenciesNanos,
               long bytes, double clientCpu, double nodeCpu, double redisCpu, double cassandraCpu) {
    double perSecond() {
      return (requests - failures) * 1e9 / wallNanos;
    }

    double percentileMs(double p) {
      if (latenciesNanos.length == 0) return Double.NaN;
      int i = (int) Math.min(latenciesNanos.length - 1, Math.ceil(p / 100.0 * latenciesNanos.length) - 1);
      return latenciesNanos[Math.max(0, i)] / 1e6;
    }
  }

  private static final int CORES = Runtime.getRuntime().availableProcessors();
  private final HttpClient http;
  private final ExecutorService executor;
  private final String base;
  private final BenchProcesses procs;

  LoadClient(String base, BenchProcesses procs) {
    this.base = base;
    this.procs = procs;
    // Two threads are enough to drive HTTP/1.1 on 2 cores; more would only compete with the node.
    this.executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "load-client");
      t.setDaemon(true);
      return t;
    });
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(executor)
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  /**
   * Sends {@code n} requests, at most {@code inFlight} at a time; {@code requestOf(i)} builds request i.
   * Latency is from send to the last byte of the answer. CPU shares are of the whole machine.
   */
  Phase run(String name, int n, int inFlight, IntFunction<Request> requestOf, Check check) {
    Semaphore slots = new Semaphore(inFlight);
    long[] latencies = new long[n];
    AtomicLong failures = new AtomicLong();
    AtomicLong bytes = new AtomicLong();
    AtomicReference<String> firstFailure = new AtomicReference<>();
    CompletableFuture<?>[] all = new CompletableFuture<?>[n];
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long node0 = BenchProcesses.cpuNanos(procs.nodePid());
    long redis0 = BenchProcesses.cpuNanos(procs.redisPid());
    long cass0 = BenchProcesses.cpuNanos(procs.cassandraPid());
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      slots.acquireUninterruptibly();
      Request r = requestOf.apply(i);
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + r.path())).timeout(Duration.ofSeconds(60))
          .method(r.method(), r.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(r.body()));
      if (r.token() != null) b.header("Authorization", "Bearer " + r.token());
      if (r.body() != null) b.header("Content-Type", "application/json");
      final int index = i;
      long start = System.nanoTime();
      all[i] = http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray()).handle((resp, err) -> {
        latencies[index] = System.nanoTime() - start;
        String problem;
        if (err != null) problem = err.toString();
        else {
          bytes.addAndGet(resp.body().length);
          problem = check.check(index, resp.statusCode(), resp.body());
          if (problem == null && resp.statusCode() != 200) problem = "status " + resp.statusCode();
        }
        if (problem != null) {
          failures.incrementAndGet();
          firstFailure.compareAndSet(null, name + " #" + index + ": " + problem);
        }
        slots.release();
        return null;
      });
    }
    CompletableFuture.allOf(all).join();
    long wall = System.nanoTime() - t0;
    double machine = (double) wall * CORES;
    long[] sorted = latencies.clone();
    Arrays.sort(sorted);
    return new Phase(name, n, (int) failures.get(), firstFailure.get(), wall, sorted, bytes.get(),
        (os.getProcessCpuTime() - cpu0) / machine,
        (BenchProcesses.cpuNanos(procs.nodePid()) - node0) / machine,
        (BenchProcesses.cpuNanos(procs.redisPid()) - redis0) / machine,
        (BenchProcesses.cpuNanos(procs.cassandraPid()) - cass0) / machine);
  }

  /** Wall and CPU time around work that is not plain HTTP requests; {@code work} returns its units' latencies. */
  Phase measure(String name, int units, java.util.function.Supplier<long[]> work) {
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long node0 = BenchProcesses.cpuNanos(procs.nodePid());
    long redis0 = BenchProcesses.cpuNanos(procs.redisPid());
    long cass0 = BenchProcesses.cpuNanos(procs.cassandraPid());
    long t0 = System.nanoTime();
    long[] latencies = work.get();
    long wall = System.nanoTime() - t0;
    double machine = (double) wall * CORES;
    long[] sorted = latencies.clone();
    Arrays.sort(sorted);
    return new Phase(name, units, 0, null, wall, sorted, 0,
        (os.getProcessCpuTime() - cpu0) / machine,
        (BenchProcesses.cpuNanos(procs.nodePid()) - node0) / machine,
        (BenchProcesses.cpuNanos(procs.redisPid()) - redis0) / machine,
        (BenchProcesses.cpuNanos(procs.cassandraPid()) - cass0) / machine);
  }

  /** One request, waited for; for setup steps that must succeed. */
  byte[] call(Request r) {
    byte[][] out = new byte[1][];
    Phase p = run("call " + r.path(), 1, 1, i -> r, (i, status, body) -> {
      out[0] = body;
      return status == 200 ? null : "status " + status + ": " + new String(body, java.nio.charset.StandardCharsets.UTF_8);
    });
    if (p.failures() > 0) throw new IllegalStateException(p.firstFailure());
    return out[0];
  }
}
