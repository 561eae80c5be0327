package imsync.lifecycle;

import static imsync.testkit.Api.assertError;
import static imsync.testkit.Api.deviceToken;
import static imsync.testkit.Api.operatorToken;
import static imsync.testkit.Api.serviceToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.stream.alpakka.cassandra.javadsl.CassandraSession;
import akka.stream.alpakka.cassandra.javadsl.CassandraSessionRegistry;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.databind.JsonNode;
import imsync.core.AccountSnapshot;
import imsync.storage.AccountSnapshotSerializer;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * API v1.2 on one node and the test Cassandra: export holds everything, erasure leaves no row of the
 * account in the journal, the chunked snapshot store or the legacy snapshot table, old cursors reset
 * even at the same version, nothing comes back after a restart or from a late message, and erasure
 * racing ingest keeps exactly the deliveries stored after it. Snapshots every 3 events, so an erased
 * account always had snapshots to remove.
 */
@ExtendWith(LocalCassandra.class)
class AccountLifecycleTest {
  // no retention job: these tests count the journal rows an erasure removes, which it would trim meanwhile
  private static final String CONFIG = "imsync.snapshot.every = 3\nimsync.retention.enabled = false";
  private static TestNode node;
  private static Api api;

  @BeforeAll
  static void start() {
    node = TestNode.start(CONFIG);
    api = node.api();
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
  }

  private static CassandraSession cql() {
    return CassandraSessionRegistry.get(node.system).sessionFor("imsync.snapshot-store.session");
  }

  private static <T> T get(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String pid(String account) {
    return "Account|" + account;
  }

  /** Journal rows of the account, whatever partition (an account here has fewer than 500,000 events). */
  private static List<Long> journalRows(String account) {
    List<Long> seqs = new ArrayList<>();
    for (Row r : get(cql().selectAll("SELECT sequence_nr FROM imsync.messages WHERE persistence_id = ? AND partition_nr = 0",
        pid(account)))) {
      seqs.add(r.getLong("sequence_nr"));
    }
    return seqs;
  }

  private static int rows(String table, String account) {
    return get(cql().selectAll("SELECT sequence_nr FROM imsync_snapshot." + table + " WHERE persistence_id = ?", pid(account))).size();
  }

  private static JsonNode export(String account) {
    Api.Response r = api.get("/admin/accounts/" + account + "/export", operatorToken());
    assertEquals(200, r.status(), r.raw().body());
    return r.body();
  }

  private static JsonNode erase(String account) {
    Api.Response r = api.delete("/admin/accounts/" + account, operatorToken());
    assertEquals(200, r.status(), r.raw().body());
    assertEquals(account, r.body().get("erased").asText());
    return r.body();
  }

  private static JsonNode sync(String token, String cursor) {
    Api.Response r = api.post("/v1/sync", token, cursor == null ? "{\"limit\": 1000}" : "{\"limit\": 1000, \"cursor\": \"" + cursor + "\"}");
    assertEquals(200, r.status(), r.raw().body());
    return r.body();
  }

  private static List<String> sessionIds(JsonNode export) {
    List<String> ids = new ArrayList<>();
    export.get("sessions").forEach(s -> ids.add(s.get("session_id").asText()));
    return ids;
  }

  @Test
  void exportHoldsSessionsWholeGroupsTombstonesAndDevices() {
    String account = Api.uniqueAccount("export");
    String phone = deviceToken(account, "phone");
    api.message("dm:bob", 1, "bob", 1000, account);
    api.message("dm:carol", 1, "carol", 2000, account);
    api.message("dm:dave", 1, "dave", 3000, account);
    assertEquals(200, api.post("/v1/groups", phone, "{\"group_id\": \"work\", \"name\": \"Work\"}").status());
    assertEquals(200, api.put("/v1/groups/work/sessions/dm:bob", phone, null).status());
    assertEquals(200, api.put("/v1/sessions/dm:bob/draft", phone, "{\"text\": \"see you\"}").status());
    assertEquals(200, api.delete("/v1/sessions/dm:dave", phone).status());
    JsonNode synced = sync(phone, null);

    JsonNode e = export(account);
    assertEquals(account, e.get("account_id").asText());
    assertEquals(synced.get("version").asLong(), e.get("version").asLong());
    assertEquals(List.of("dm:bob", "dm:carol"), sessionIds(e));
    JsonNode bob = e.get("sessions").get(0);
    assertEquals("see you", bob.get("draft").get("text").asText(), "drafts are exported");
    assertEquals("work", bob.get("groups").get(0).asText());
    List<String> groups = new ArrayList<>();
    e.get("groups").forEach(g -> groups.add(g.get("group_id").asText()));
    assertEquals(List.of("inbox", "archive", "work"), groups);
    assertEquals(1, e.get("removed_sessions").size());
    assertEquals("dm:dave", e.get("removed_sessions").get(0).get("session_id").asText());
    assertTrue(e.get("removed_sessions").get(0).get("removed_at").asLong() > 0);
    assertEquals("phone", e.get("devices").get(0).get("device_id").asText(), "a device that synced is exported");
  }

  @Test
  void anAccountNeverWrittenToExportsEmpty() {
    JsonNode e = export(Api.uniqueAccount("never"));
    assertEquals(0, e.get("version").asLong());
    assertEquals(0, e.get("sessions").size());
    assertEquals(0, e.get("removed_sessions").size());
    assertEquals(0, e.get("devices").size());
  }

  @Test
  void onlyOperatorTokensMayExportEraseOrReadTheAuditLog() {
    String account = Api.uniqueAccount("scope");
    api.message("dm:bob", 1, "bob", 1000, account);
    for (String token : List.of(deviceToken(account, "phone"), serviceToken())) {
      assertError(api.get("/admin/accounts/" + account + "/export", token), 403, "forbidden");
      assertError(api.delete("/admin/accounts/" + account, token), 403, "forbidden");
      assertError(api.get("/admin/audit", token), 403, "forbidden");
    }
    assertError(api.delete("/admin/accounts/" + account, null), 401, "unauthorized");
    assertError(api.delete("/admin/accounts/bad%20id", operatorToken()), 400, "invalid_request");
    assertEquals(1, export(account).get("sessions").size(), "the refused calls erased nothing");
  }

  @Test
  void erasureLeavesNoRowAndEveryOldCursorResetsEvenAtTheSameVersion() {
    String account = Api.uniqueAccount("erase");
    String phone = deviceToken(account, "phone");
    for (int i = 1; i <= 8; i++) api.message("s" + i, 1, "bob", 1000 + i, account);
    assertEquals(200, api.put("/v1/sessions/s1/draft", phone, "{\"text\": \"secret\"}").status());
    assertEquals(200, api.delete("/v1/sessions/s2", phone).status());
    JsonNode before = sync(phone, null);
    long oldVersion = before.get("version").asLong();
    String oldCursor = before.get("cursor").asText();
    // a snapshot in the plugin's own table, as accounts snapshotted before the chunked store have
    byte[] legacy = new AccountSnapshotSerializer(null).toBinary(new AccountSnapshot(1, 0, List.of(), List.of(), List.of(), List.of(), List.of()));
    get(cql().executeWrite("INSERT INTO imsync_snapshot.snapshots (persistence_id, sequence_nr, timestamp, ser_id, ser_manifest, "
        + "snapshot_data) VALUES (?, ?, ?, ?, ?, ?)", pid(account), 1L, 1000L, AccountSnapshotSerializer.IDENTIFIER, "S1",
        ByteBuffer.wrap(legacy)));
    // and a chunk that a snapshot save cut off before its header left behind (never loaded, still data)
    get(cql().executeWrite("INSERT INTO imsync_snapshot.snapshot_chunks (persistence_id, sequence_nr, chunk_nr, data) VALUES (?, ?, ?, ?)",
        pid(account), 2L, 0, ByteBuffer.wrap(new byte[] {1, 2, 3})));
    int journalBefore = journalRows(account).size();
    assertTrue(journalBefore >= 10, "events stored: " + journalBefore);
    assertTrue(rows("snapshot_headers", account) > 0 && rows("snapshot_chunks", account) > 0, "snapshots were taken");

    JsonNode erased = erase(account);
    assertEquals(journalBefore, erased.get("events").asInt(), "every journal event of the account is counted");

    // answered only once nothing can be read back: the journal keeps the marker alone, no snapshot is left
    List<Long> left = journalRows(account);
    assertEquals(1, left.size(), "only the erasure marker: " + left);
    assertEquals(journalBefore + 1, left.get(0));
    assertEquals(0, rows("snapshot_headers", account));
    assertEquals(0, rows("snapshot_chunks", account));
    assertEquals(0, rows("snapshots", account), "the legacy snapshot table too");

    JsonNode empty = export(account);
    assertEquals(0, empty.get("version").asLong());
    assertEquals(0, empty.get("sessions").size());
    assertEquals(0, empty.get("removed_sessions").size(), "tombstones are erased");
    assertEquals(0, empty.get("devices").size(), "devices are erased");

    JsonNode afterErasure = sync(phone, oldCursor);
    assertTrue(afterErasure.get("reset").asBoolean(), "an old cursor resets");
    assertEquals(0, afterErasure.get("sessions").size());
    // the new account reaches the old version: the old cursor still resets, a new one does not
    for (int i = 1; i <= oldVersion; i++) api.message("n" + i, 1, "bob", 5000 + i, account);
    JsonNode fresh = sync(phone, null);
    assertEquals(oldVersion, fresh.get("version").asLong());
    JsonNode stale = sync(phone, oldCursor);
    assertTrue(stale.get("reset").asBoolean(), "a cursor of the erased account resets at the same version");
    assertEquals(oldVersion, stale.get("sessions").size(), "and gets a first sync of the new account");
    JsonNode delta = sync(phone, fresh.get("cursor").asText());
    assertFalse(delta.get("reset").asBoolean());
    assertEquals(0, delta.get("sessions").size());

    assertEquals(0, erase(Api.uniqueAccount("erase-empty")).get("events").asInt(), "an empty account");
  }

  @Test
  void erasingAgainIsIdempotent() {
    String account = Api.uniqueAccount("again");
    api.message("dm:bob", 1, "bob", 1000, account);
    assertEquals(1, erase(account).get("events").asInt());
    assertEquals(0, erase(account).get("events").asInt(), "already erased");
    assertEquals(1, journalRows(account).size(), "no second marker for nothing");
    api.message("dm:bob", 2, "bob", 2000, account);
    assertEquals(1, erase(account).get("events").asInt(), "what came after the first erasure");
    assertEquals(0, export(account).get("sessions").size());
  }

  @Test
  void nothingErasedComesBackAfterARestartAndALateMessageStartsTheAccountAnew() {
    String account = Api.uniqueAccount("restart");
    String phone = deviceToken(account, "phone");
    for (int i = 1; i <= 5; i++) api.message("dm:bob", i, "bob", 1000 + i, account);
    api.message("dm:carol", 1, "carol", 1100, account);
    sync(phone, null);
    erase(account);

    node.close();
    node = TestNode.start(CONFIG);
    api = node.api();

    JsonNode e = export(account);
    assertEquals(0, e.get("version").asLong(), "nothing comes back after a restart");
    assertEquals(0, e.get("sessions").size());
    // a message of the old conversation arriving late: the account starts over with it alone
    api.message("dm:bob", 3, "bob", 900, account);
    JsonNode again = export(account);
    assertEquals(List.of("dm:bob"), sessionIds(again));
    JsonNode bob = again.get("sessions").get(0);
    assertEquals(3, bob.get("last_message").get("seq").asLong());
    assertEquals(1, bob.get("unread_count").asLong(), "no history of the erased account");
    assertEquals(1, again.get("version").asLong());
  }

  /**
   * Three writers ingest one new session each per call, in order, while an operator erases the account.
   * The entity serializes the erasure with the ingest: each writer's surviving sessions are exactly its
   * calls stored after the erasure (a suffix of its sequence), none acknowledged before the DELETE was
   * sent survives, every call sent after its answer does, and the erased count is what came before.
   */
  @Test
  void erasureRacingIngestKeepsExactlyTheDeliveriesAfterIt() throws Exception {
    String account = Api.uniqueAccount("race");
    int writers = 3;
    int calls = 40;
    java.util.concurrent.atomic.AtomicIntegerArray acked = new java.util.concurrent.atomic.AtomicIntegerArray(writers);
    java.util.concurrent.atomic.AtomicIntegerArray sentAfterAnswer = new java.util.concurrent.atomic.AtomicIntegerArray(writers);
    java.util.concurrent.atomic.AtomicBoolean answered = new java.util.concurrent.atomic.AtomicBoolean();
    for (int w = 0; w < writers; w++) sentAfterAnswer.set(w, Integer.MAX_VALUE);
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int w = 0; w < writers; w++) {
      int writer = w;
      Thread t = new Thread(() -> {
        try {
          for (int i = 1; i <= calls; i++) {
            if (answered.get() && sentAfterAnswer.get(writer) == Integer.MAX_VALUE) sentAfterAnswer.set(writer, i);
            api.message("w" + writer + "-" + i, 1, "bob", 1000 + i, account);
            acked.set(writer, i);
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      threads.add(t);
      t.start();
    }
    // erase in the middle of the traffic
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (acked.get(0) < 10 || acked.get(1) < 10 || acked.get(2) < 10) {
      if (System.nanoTime() > deadline) throw new AssertionError("writers did not start");
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // poll interval
    }
    int[] ackedBefore = new int[writers];
    for (int w = 0; w < writers; w++) ackedBefore[w] = acked.get(w);
    JsonNode erased = erase(account);
    answered.set(true);
    for (Thread t : threads) t.join(TimeUnit.SECONDS.toMillis(120));
    assertTrue(failures.isEmpty(), "every ingest answered 200: " + failures);

    JsonNode e = export(account);
    long erasedCount = 0;
    for (int w = 0; w < writers; w++) {
      TreeSet<Integer> kept = new TreeSet<>();
      for (String id : sessionIds(e)) if (id.startsWith("w" + w + "-")) kept.add(Integer.parseInt(id.substring(id.indexOf('-') + 1)));
      int first = kept.isEmpty() ? calls + 1 : kept.first();
      assertEquals(calls - first + 1, kept.size(), "writer " + w + " keeps a suffix of its calls, never a mix: " + kept);
      assertTrue(first > ackedBefore[w], "writer " + w + ": a call acknowledged before the DELETE survived: " + kept);
      assertTrue(first <= sentAfterAnswer.get(w),
          "writer " + w + ": a call sent after the erasure answered is lost: first kept " + first + ", sent after " + sentAfterAnswer.get(w));
      erasedCount += first - 1;
    }
    assertEquals(erasedCount, erased.get("events").asLong(), "the erased count is every call stored before the erasure");
    assertEquals(e.get("sessions").size(), e.get("version").asLong(), "the new account holds only the later deliveries");
  }
}
