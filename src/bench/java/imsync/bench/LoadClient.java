package imsync.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * The load generator: HTTP/1.1 keep-alive requests from a fixed number of connections, one thread and
 * one blocking socket each (closed loop: each connection sends its next request when the answer to the
 * last one is in). Each request is built from the answer of the previous one of its account (a sync
 * sends the cursor it got), and each answer is checked: a non-200 answer or a failed check counts as a
 * failure, never as speed.
 *
 * <p>Why this and not wrk: a sync's body depends on the previous answer of the same account, and every
 * answer is checked against what was ingested; wrk's Lua hooks cannot tie an answer to its request across
 * connections. Why not the JDK's HttpClient: it spent about 1 ms of CPU per request here, half the
 * machine, so it, not the node, set the pace. A blocking socket per connection costs a write and a read
 * system call per request. It speaks only what the node answers (Content-Length bodies); anything else
 * is a failure. The client's own CPU share is measured and reported with every figure.
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
  private final String host;
  private final int port;
  private final BenchProcesses procs;
  /** Idle keep-alive connections, reused across phases. */
  private final java.util.concurrent.ConcurrentLinkedQueue<Connection> idle = new java.util.concurrent.ConcurrentLinkedQueue<>();

  LoadClient(String base, BenchProcesses procs) {
    URI uri = URI.create(base);
    this.host = uri.getHost();
    this.port = uri.getPort();
    this.procs = procs;
  }

  /**
   * Sends {@code n} requests over {@code inFlight} connections; {@code requestOf(i)} builds request i.
   * Latency is from the first byte sent to the last byte of the answer. CPU shares are of the whole machine.
   */
  Phase run(String name, int n, int inFlight, IntFunction<Request> requestOf, Check check) {
    long[] latencies = new long[n];
    AtomicLong failures = new AtomicLong();
    AtomicLong bytes = new AtomicLong();
    AtomicInteger next = new AtomicInteger();
    AtomicReference<String> firstFailure = new AtomicReference<>();
    return measure(name, n, () -> {
      Runnable worker = () -> {
        Connection c = null;
        for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
          Request r = requestOf.apply(i);
          String problem;
          long start = System.nanoTime();
          try {
            if (c == null) c = connection();
            Connection.Answer a = c.exchange(r);
            latencies[i] = System.nanoTime() - start;
            bytes.addAndGet(a.body().length);
            problem = check.check(i, a.status(), a.body());
            if (problem == null && a.status() != 200) problem = "status " + a.status();
          } catch (IOException | RuntimeException e) {
            latencies[i] = System.nanoTime() - start;
            problem = e.toString();
            if (c != null) c.close();
            c = null;
          }
          if (problem != null) {
            failures.incrementAndGet();
            firstFailure.compareAndSet(null, name + " #" + i + ": " + problem);
          }
        }
        if (c != null) {
          c.idleSince = System.nanoTime();
          idle.add(c);
        }
      };
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < Math.min(inFlight, n); t++) {
        Thread thread = new Thread(worker, "load-" + t);
        thread.start();
        threads.add(thread);
      }
      for (Thread t : threads) {
        try {
          t.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      return latencies;
    }, failures::get, firstFailure::get, bytes::get);
  }

  /**
   * A pooled connection, or a new one. Pooled ones idle for longer than {@link #MAX_IDLE_NANOS} are
   * closed instead: the server drops idle keep-alive connections (Akka HTTP's idle-timeout, 120 s), and
   * the wrk rounds leave this pool idle for minutes.
   */
  private Connection connection() throws IOException {
    for (Connection c = idle.poll(); c != null; c = idle.poll()) {
      if (System.nanoTime() - c.idleSince < MAX_IDLE_NANOS) return c;
      c.close();
    }
    return new Connection(host, port);
  }

  private static final long MAX_IDLE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);

  /** One keep-alive connection: writes a request, reads the status line, headers and a Content-Length body. */
  static final class Connection {
    record Answer(int status, byte[] body) {}

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final String hostHeader;
    volatile long idleSince = System.nanoTime();

    Connection(String host, int port) throws IOException {
      socket = new Socket(host, port);
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(60_000);
      out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
      in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
      hostHeader = host + ":" + port;
    }

    Answer exchange(Request r) throws IOException {
      byte[] body = r.body() == null ? null : r.body().getBytes(StandardCharsets.UTF_8);
      StringBuilder h = new StringBuilder(256);
      h.append(r.method()).append(' ').append(r.path()).append(" HTTP/1.1\r\nHost: ").append(hostHeader).append("\r\n");
      if (r.token() != null) h.append("Authorization: Bearer ").append(r.token()).append("\r\n");
      if (body != null) h.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
      h.append("\r\n");
      out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (body != null) out.write(body);
      out.flush();
      String status = line();
      if (!status.startsWith("HTTP/1.1 ")) throw new IOException("not an HTTP/1.1 answer: " + status);
      int code = Integer.parseInt(status.substring(9, 12));
      int length = -1;
      for (String line = line(); !line.isEmpty(); line = line()) {
        int colon = line.indexOf(':');
        String name = line.substring(0, colon).trim();
        if (name.equalsIgnoreCase("Content-Length")) length = Integer.parseInt(line.substring(colon + 1).trim());
        else if (name.equalsIgnoreCase("Transfer-Encoding")) throw new IOException("chunked answers are not expected here");
      }
      if (length < 0) throw new IOException("an answer without Content-Length");
      byte[] payload = in.readNBytes(length);
      if (payload.length != length) throw new IOException("connection closed mid-answer");
      return new Answer(code, payload);
    }

    private String line() throws IOException {
      StringBuilder b = new StringBuilder(64);
      for (int c = in.read(); c != '\n'; c = in.read()) {
        if (c < 0) throw new IOException("connection closed");
        if (c != '\r') b.append((char) c);
      }
      return b.toString();
    }

    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing a broken connection
      }
    }
  }

  /** Wall and CPU time around work that is not plain HTTP requests; {@code work} returns its units' latencies. */
  Phase measure(String name, int units, Supplier<long[]> work) {
    return measure(name, units, work, () -> 0L, () -> null, () -> 0L);
  }

  private Phase measure(String name, int units, Supplier<long[]> work, Supplier<Long> failures, Supplier<String> firstFailure,
                        Supplier<Long> bytes) {
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
    return new Phase(name, units, failures.get().intValue(), firstFailure.get(), wall, sorted, bytes.get(),
        (os.getProcessCpuTime() - cpu0) / machine,
        (BenchProcesses.cpuNanos(procs.nodePid()) - node0) / machine,
        (BenchProcesses.cpuNanos(procs.redisPid()) - redis0) / machine,
        (BenchProcesses.cpuNanos(procs.cassandraPid()) - cass0) / machine);
  }

  /** One request and its answer whatever its status (a probe: is this endpoint there?). */
  Connection.Answer probe(Request r) {
    Connection.Answer[] out = new Connection.Answer[1];
    Phase p = run("probe " + r.path(), 1, 1, i -> r, (i, code, body) -> {
      out[0] = new Connection.Answer(code, body);
      return null;
    });
    if (out[0] == null) throw new IllegalStateException(p.firstFailure());
    return out[0];
  }

  /**
   * One request, waited for; for setup steps and verification reads that must succeed. A 503 is the
   * contract's "retry" (Retry-After: 1 s), so it is retried a few times; these calls are not measured.
   */
  byte[] call(Request r) {
    byte[][] out = new byte[1][];
    Phase p = null;
    for (int attempt = 0; attempt < 6; attempt++) {
      int[] status = new int[1];
      p = run("call " + r.path(), 1, 1, i -> r, (i, code, body) -> {
        out[0] = body;
        status[0] = code;
        return code == 200 ? null : "status " + code + ": " + new String(body, StandardCharsets.UTF_8);
      });
      if (p.failures() == 0) return out[0];
      if (status[0] != 503) break;
      java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.SECONDS.toNanos(1)); // the answer's Retry-After
    }
    throw new IllegalStateException(p.firstFailure());
  }
}
