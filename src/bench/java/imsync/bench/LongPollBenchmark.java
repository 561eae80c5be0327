package imsync.bench;

import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * 2,000 concurrent long polls on one node: how much CPU the node spends while they wait, and how fast
 * they are all answered when their accounts change. Prints figures (run: ./imsync bench longpoll).
 */
public final class LongPollBenchmark {

  public static void main(String[] args) throws Exception {
    int polls = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int accounts = polls / 4; // four waiting devices per account
    String prefix = "lp" + System.currentTimeMillis() % 1_000_000 + "-"; // fresh accounts every run
    boolean startedCassandra = !isUp();
    if (startedCassandra) LocalCassandra.start();
    try (TestNode node = TestNode.start("imsync.rate-limit.per-second = 0")) {
      Api api = node.api();
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      List<String> cursors = new ArrayList<>();
      for (int a = 0; a < accounts; a++) {
        api.message("dm:bob", 1, "bob", 1000, prefix + a);
        cursors.add(api.post("/v1/sync", Api.deviceToken(prefix + a, "d0"), "{}").body().get("cursor").asText());
      }
      List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
      for (int i = 0; i < polls; i++) {
        int a = i % accounts;
        waiting.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port + "/v1/sync"))
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + Api.deviceToken(prefix + a, "d" + (i / accounts)))
            .POST(HttpRequest.BodyPublishers.ofString("{\"cursor\":\"" + cursors.get(a) + "\",\"wait_ms\":30000}")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      // let every poll reach its account, and the first device-progress flush (5 s) pass
      long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
      while (System.nanoTime() < settle) Thread.onSpinWait();
      long done = waiting.stream().filter(CompletableFuture::isDone).count();

      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      com.sun.management.OperatingSystemMXBean os =
          (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      java.util.Map<String, Long> before = perThread(threads);
      long node0 = akkaCpu(threads);
      long proc0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      TimeUnit.SECONDS.sleep(10); // the measurement window itself, not synchronization
      long wall = System.nanoTime() - t0;
      double nodeCpu = 100.0 * (akkaCpu(threads) - node0) / wall;
      double procCpu = 100.0 * (os.getProcessCpuTime() - proc0) / wall;
      java.util.Map<String, Long> after = perThread(threads);
      after.entrySet().stream()
          .map(e -> java.util.Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
          .sorted((x, y) -> Long.compare(y.getValue(), x.getValue())).limit(6)
          .forEach(e -> System.out.printf("  busiest thread while waiting: %-60s %6.2f%% of one core%n", e.getKey(), 100.0 * e.getValue() / wall));

      long w0 = System.nanoTime();
      StringBuilder ids = new StringBuilder();
      for (int a = 0; a < accounts; a++) ids.append(a == 0 ? "" : ",").append("\"" + prefix).append(a).append('"');
      api.post("/v1/ingest", Api.serviceToken(), "{\"events\":[{\"type\":\"message\",\"account_ids\":[" + ids
          + "],\"session_id\":\"dm:bob\",\"seq\":2,\"sender_id\":\"bob\",\"preview\":\"wake\",\"ts\":2000}]}");
      CompletableFuture.allOf(waiting.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      long wakeMs = (System.nanoTime() - w0) / 1_000_000;
      java.util.Map<Integer, Long> statuses = new java.util.TreeMap<>();
      for (var f : waiting) statuses.merge(f.join().statusCode(), 1L, Long::sum);
      System.out.println("answers by status: " + statuses);
      long ok = waiting.stream().filter(f -> f.join().statusCode() == 200 && f.join().body().contains("\"wake\"")).count();

      System.out.printf("long polls waiting: %d on %d accounts (%d answered early)%n", polls, accounts, done);
      System.out.printf("CPU while waiting (10 s): node's Akka threads %.2f%% of one core, whole JVM %.2f%%%n", nodeCpu, procCpu);
      System.out.printf("one fan-out message to all %d accounts: every poll answered in %d ms (%d with the change)%n",
          accounts, wakeMs, ok);
    } finally {
      if (startedCassandra) LocalCassandra.stop();
    }
  }

  private static java.util.Map<String, Long> perThread(ThreadMXBean threads) {
    java.util.Map<String, Long> out = new java.util.HashMap<>();
    for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null) out.merge(info.getThreadName(), Math.max(0, threads.getThreadCpuTime(info.getThreadId())), Long::sum);
    }
    return out;
  }

  private static boolean isUp() {
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new java.net.InetSocketAddress("127.0.0.1", LocalCassandra.PORT), 500);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  /** CPU time of the node's actor-system threads (named after the system, "imsync-..."). */
  private static long akkaCpu(ThreadMXBean threads) {
    long sum = 0;
    for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith("imsync-")) {
        long t = threads.getThreadCpuTime(info.getThreadId());
        if (t > 0) sum += t;
      }
    }
    return sum;
  }
}
