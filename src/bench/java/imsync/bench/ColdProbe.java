package imsync.bench;

import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.TestNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A quick, local probe of cold-account syncs for profiling (not a benchmark of record: {@code ./imsync
 * bench} is). Starts a node on the test Cassandra with a short idle timeout, loads accounts x 1,000
 * sessions, takes each account's caught-up cursor, changes 10 sessions of each, then, pass after pass,
 * waits until the accounts have passivated and syncs each once from its cursor, 4 in flight, printing
 * p50/p99. Run a profiler against it between passes.
 *
 * <p>Args: [accounts (200)] [passes (5)] [in flight (4)] [extra settle ms after passivation (0)]. Needs
 * {@code -Dimsync.test.cassandra.port}.
 */
public final class ColdProbe {
  public static void main(String[] args) throws Exception {
    int accounts = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int passes = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int inFlight = args.length > 2 ? Integer.parseInt(args[2]) : 4;
    long settleMs = args.length > 3 ? Long.parseLong(args[3]) : 0;
    TestNode node = TestNode.start("imsync.rate-limit.per-second = 1000000\nimsync.rate-limit.burst = 1000000\n"
        + "akka.cluster.sharding.passivation.default-strategy.idle-entity.timeout = 6s");
    Api api = node.api();
    String service = Api.serviceToken();
    String run = "k" + (System.currentTimeMillis() % 1_000_000) + "-";
    List<String> ids = new ArrayList<>();
    String[] tokens = new String[accounts];
    for (int a = 0; a < accounts; a++) {
      ids.add(run + a);
      tokens[a] = Api.deviceToken(run + a, "d");
    }
    long t0 = System.nanoTime();
    for (int j0 = 0; j0 < 1000; j0 += 25) {
      List<String> events = new ArrayList<>();
      for (int j = j0; j < j0 + 25; j++) events.add(HotPathProbe.message("c:" + j, 1, 1_764_400_000_000L + j, ids));
      HotPathProbe.retry(api, "POST", "/v1/ingest", service, "{\"events\":[" + String.join(",", events) + "]}");
    }
    String[] cursors = new String[accounts];
    for (int a = 0; a < accounts; a++) {
      String c = null;
      while (true) {
        JsonNode r = HotPathProbe.retry(api, "POST", "/v1/sync", tokens[a], c == null ? "{\"limit\":1000}" : "{\"cursor\":\"" + c + "\",\"limit\":1000}");
        c = r.get("cursor").asText();
        if (!r.get("has_more").asBoolean()) break;
      }
      cursors[a] = c;
    }
    System.out.printf("loaded %d accounts x 1000 sessions in %.1f s%n", accounts, (System.nanoTime() - t0) / 1e9);
    ExecutorService pool = Executors.newFixedThreadPool(inFlight);
    for (int pass = 0; pass < passes; pass++) {
      List<String> events = new ArrayList<>();
      for (int i = 0; i < 10; i++) events.add(HotPathProbe.message("c:" + (pass * 10 + i), 2 + pass, 1_764_500_000_000L + pass * 100 + i, ids));
      HotPathProbe.retry(api, "POST", "/v1/ingest", service, "{\"events\":[" + String.join(",", events) + "]}");
      long waitStart = System.nanoTime();
      while (activeAccounts(api) > 0) Thread.onSpinWait();
      System.out.printf("pass %d: passivated after %.1f s; syncing %d in flight ...%n", pass, (System.nanoTime() - waitStart) / 1e9, inFlight);
      if (settleMs > 0) Thread.sleep(settleMs); // a probe's knob: let the passivation snapshots finish writing
      long[] lat = new long[accounts];
      AtomicInteger next = new AtomicInteger();
      List<Future<?>> fs = new ArrayList<>();
      for (int w = 0; w < inFlight; w++) {
        fs.add(pool.submit(() -> {
          for (int a; (a = next.getAndIncrement()) < accounts; ) {
            long t = System.nanoTime();
            Api.Response r = api.post("/v1/sync", tokens[a], "{\"cursor\":\"" + cursors[a] + "\",\"limit\":200}");
            lat[a] = System.nanoTime() - t;
            if (r.status() != 200 || r.body().get("sessions").size() != 10) throw new IllegalStateException(r.status() + " " + r.raw().body());
            cursors[a] = r.body().get("cursor").asText();
          }
          return null;
        }));
      }
      for (Future<?> f : fs) f.get();
      Arrays.sort(lat);
      System.out.printf("pass %d: cold sync p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms%n", pass, lat[accounts / 2] / 1e6,
          lat[accounts * 9 / 10] / 1e6, lat[accounts * 99 / 100] / 1e6, lat[accounts - 1] / 1e6);
    }
    pool.shutdown();
    node.close();
    System.exit(0);
  }

  /** Accounts in memory on the node, from the operators' metrics view (the only node). */
  private static long activeAccounts(Api api) throws InterruptedException {
    Thread.sleep(200); // poll interval of this probe (not a test): the node's idle timer decides
    Api.Response r = api.get("/admin/metrics", Api.operatorToken());
    return r.body().get("members").get(0).get("active_accounts").asLong();
  }
}
