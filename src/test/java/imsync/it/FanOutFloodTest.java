package imsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 15's flood: group-message fan-out from several clients into thousands of new accounts, against a
 * node whose path to Cassandra is made tiny (a driver that takes 16 requests at once and queues 200 more, a
 * short ingest queue, few accounts in memory so they passivate all along). Every call must answer within
 * 10 s, {@code 200} or {@code 503} with Retry-After and the deliveries to retry; resending just those must
 * converge; afterwards every account answers and holds everything that was acknowledged.
 */
@ExtendWith(LocalCassandra.class)
class FanOutFloodTest {
  private static final int ACCOUNTS = 2000;
  private static final int CHATS = 300;
  private static final int MEMBERS = 100;
  private static final int CLIENTS = 6;
  private static final int CALLS = 18;
  private static final int EVENTS_PER_CALL = 10;
  private static final Duration CALL_BOUND = Duration.ofSeconds(10);

  @Test
  void everyCallAnswersInBoundedTimeAndNoAccountIsLeftUnreachable() throws Exception {
    String run = "flood" + System.nanoTime() % 1_000_000 + "-";
    try (TestNode node = TestNode.start(String.join("\n",
        "imsync.ingest { parallelism = 64, max-waiting = 2500, deadline = 8s }",
        "datastax-java-driver.advanced.throttler { max-concurrent-requests = 16, max-queue-size = 200 }",
        "datastax-java-driver.advanced.connection.pool.local.size = 1",
        "akka.cluster.sharding.passivation.default-strategy.active-entity-limit = 1000"))) {
      Api api = node.api();
      String service = Api.serviceToken();

      // chat c: 100 members spread over the accounts; event k: a message in chat k % 300, seq k / 300 + 1
      List<List<String>> members = new ArrayList<>();
      for (int c = 0; c < CHATS; c++) {
        List<String> m = new ArrayList<>(MEMBERS);
        for (int i = 0; i < MEMBERS; i++) m.add(run + ((c * 7 + i * 31) % ACCOUNTS));
        members.add(m);
      }
      Map<Integer, ObjectNode> events = new HashMap<>();
      for (int k = 0; k < CALLS * EVENTS_PER_CALL; k++) events.put(k, event(run, k, members.get(k % CHATS)));

      AtomicInteger ok = new AtomicInteger();
      AtomicInteger shedOrPartial = new AtomicInteger();
      AtomicInteger stillToRetry = new AtomicInteger();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < CLIENTS; t++) {
        int client = t;
        done.add(clients.submit(() -> {
          for (int call = client; call < CALLS; call += CLIENTS) {
            List<ObjectNode> pending = new ArrayList<>();
            for (int e = 0; e < EVENTS_PER_CALL; e++) pending.add(events.get(call * EVENTS_PER_CALL + e).deepCopy());
            // resend only what the 503 names, until everything is stored (bounded)
            for (int round = 0; !pending.isEmpty(); round++) {
              if (round == 60) {
                stillToRetry.incrementAndGet();
                break;
              }
              Api.Response r = api.call("POST", "/v1/ingest", service, body(pending), CALL_BOUND);
              if (r.status() == 200) {
                ok.incrementAndGet();
                pending.clear();
                continue;
              }
              assertEquals(503, r.status(), r.raw().body());
              assertEquals("unavailable", r.errorCode());
              long retryAfter = Long.parseLong(r.raw().headers().firstValue("Retry-After").orElseThrow());
              assertTrue(retryAfter >= 1);
              shedOrPartial.incrementAndGet();
              pending = retried(pending, r.body().get("retry"));
              // the contract asks callers to wait Retry-After before resending (not a synchronization)
              TimeUnit.SECONDS.sleep(retryAfter);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) f.get(10, TimeUnit.MINUTES);
      clients.shutdown();
      assertEquals(0, stillToRetry.get(), "every call was stored within 60 resends");
      assertTrue(shedOrPartial.get() > 0, "the flood did exceed what the node takes at once (else this tests nothing)");
      System.out.printf("[flood] %d calls stored, %d answers were 503 with a retry list%n", ok.get(), shedOrPartial.get());

      // every account answers, with every chat it is in at the last seq sent there
      Map<String, Map<String, Long>> expected = new HashMap<>();
      for (int k = 0; k < CALLS * EVENTS_PER_CALL; k++) {
        for (String a : members.get(k % CHATS)) expected.computeIfAbsent(a, x -> new HashMap<>()).merge("chat:" + (k % CHATS), k / CHATS + 1L, Math::max);
      }
      Map<String, Integer> wrong = new ConcurrentHashMap<>();
      ExecutorService checkers = Executors.newFixedThreadPool(8);
      List<Future<?>> checks = new ArrayList<>();
      for (int i = 0; i < ACCOUNTS; i += 3) {
        String account = run + i;
        checks.add(checkers.submit(() -> {
          Api.Response r = api.call("POST", "/v1/sync", Api.deviceToken(account, "check"), "{\"cursor\":null,\"limit\":1000}", CALL_BOUND);
          if (r.status() != 200) {
            wrong.put(account, r.status());
            return;
          }
          Map<String, Long> seen = new HashMap<>();
          for (JsonNode s : r.body().get("sessions")) seen.put(s.get("session_id").asText(), s.get("last_message").get("seq").asLong());
          if (!seen.equals(expected.getOrDefault(account, Map.of()))) wrong.put(account, -1);
        }));
      }
      for (Future<?> f : checks) f.get(5, TimeUnit.MINUTES);
      checkers.shutdown();
      assertEquals(Map.of(), wrong, "accounts that did not answer 200 (status) or lost acknowledged deliveries (-1)");
    }
  }

  private static ObjectNode event(String run, int k, List<String> recipients) {
    ObjectNode e = Api.JSON.createObjectNode();
    e.put("type", "message");
    ArrayNode ids = e.putArray("account_ids");
    recipients.forEach(ids::add);
    e.put("session_id", "chat:" + (k % CHATS));
    e.put("session_kind", "group");
    e.put("title", "Chat " + (k % CHATS));
    e.put("seq", k / CHATS + 1);
    e.put("sender_id", "sender");
    e.put("preview", "m" + k);
    e.put("ts", 1_700_000_000_000L + k);
    return e;
  }

  private static String body(List<ObjectNode> events) {
    ObjectNode b = Api.JSON.createObjectNode();
    ArrayNode a = b.putArray("events");
    events.forEach(a::add);
    return b.toString();
  }

  /** The events of the last call narrowed to what its 503 names; a 503 without a list: all of it again. */
  private static List<ObjectNode> retried(List<ObjectNode> sent, JsonNode retry) {
    if (retry == null) return sent;
    Map<Integer, ObjectNode> next = new LinkedHashMap<>();
    for (JsonNode r : retry) {
      int index = r.get("event").asInt();
      assertTrue(index >= 0 && index < sent.size(), "retry names an event of the call");
      ObjectNode e = sent.get(index).deepCopy();
      List<String> wanted = new ArrayList<>();
      r.get("account_ids").forEach(a -> wanted.add(a.asText()));
      List<String> had = new ArrayList<>();
      sent.get(index).get("account_ids").forEach(a -> had.add(a.asText()));
      assertTrue(had.containsAll(wanted), "retry names recipients of that event");
      ArrayNode ids = e.putArray("account_ids");
      wanted.forEach(ids::add);
      next.put(index, e);
    }
    assertTrue(!next.isEmpty(), "a 503 of ingest with a retry list names at least one delivery");
    return new ArrayList<>(next.values());
  }
}
