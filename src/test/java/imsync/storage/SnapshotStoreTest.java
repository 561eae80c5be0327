package imsync.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorRef;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Adapter;
import akka.pattern.Patterns;
import akka.persistence.Persistence;
import akka.persistence.SelectedSnapshot;
import akka.persistence.SnapshotMetadata;
import akka.persistence.SnapshotProtocol;
import akka.persistence.SnapshotSelectionCriteria;
import akka.stream.alpakka.cassandra.javadsl.CassandraSession;
import akka.stream.alpakka.cassandra.javadsl.CassandraSessionRegistry;
import com.datastax.oss.driver.api.core.cql.Row;
import com.typesafe.config.ConfigFactory;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.core.AccountSnapshot;
import imsync.core.CursorCodec;
import imsync.core.IngestItem;
import imsync.core.Session;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The chunked snapshot store on the test Cassandra, with chunks of 256 KiB so a large account takes
 * several: a 100,000-session account snapshots and recovers from its snapshot alone, a snapshot without
 * its header (cut off half-way) or with chunks missing is never loaded, retention removes what is left
 * behind, and an account put to rest after changes snapshots so its next start replays nothing.
 */
@ExtendWith(LocalCassandra.class)
class SnapshotStoreTest {
  private static final Duration T = Duration.ofSeconds(60);
  private static TestNode node;
  private static Settings settings;
  private static CursorCodec codec;
  private static CassandraSession cql;

  @BeforeAll
  static void start() {
    node = TestNode.start("imsync.snapshot-store.chunk-size = 256KiB");
    settings = Settings.from(node.system.settings().config());
    codec = new CursorCodec(settings.cursorSecret());
    cql = CassandraSessionRegistry.get(node.system).sessionFor("imsync.snapshot-store.session");
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
  }

  private static <T> T get(java.util.concurrent.CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static akka.actor.typed.ActorRef<AccountEntity.Command> spawn(String account) {
    return node.system.systemActorOf(AccountEntity.create(account, settings, codec), "account-" + account + "-" + System.nanoTime(),
        Props.empty());
  }

  private static <R extends AccountEntity.Reply> R ask(akka.actor.typed.ActorRef<AccountEntity.Command> ref,
                                                       akka.japi.function.Function<akka.actor.typed.ActorRef<AccountEntity.Reply>, AccountEntity.Command> cmd,
                                                       Class<R> type) {
    AccountEntity.Reply r = get(akka.actor.typed.javadsl.AskPattern.ask(ref, cmd, T, node.system.scheduler()));
    return assertInstanceOf(type, r, String.valueOf(r));
  }

  /** Stop as sharding does (the stop message), and wait until it is gone. */
  private static void passivate(akka.actor.typed.ActorRef<AccountEntity.Command> ref) {
    TestProbe<Object> watcher = TestProbe.create(node.system);
    ref.tell(AccountEntity.Stop.INSTANCE);
    watcher.expectTerminated(ref, T);
  }

  private static ActorRef store() {
    return Persistence.get(Adapter.toClassic(node.system)).snapshotStoreFor("imsync.snapshot-store", ConfigFactory.empty());
  }

  private static Object storeAsk(Object message) {
    return get(Patterns.ask(store(), message, T));
  }

  private static List<Row> headers(String pid) {
    return get(cql.selectAll("SELECT sequence_nr, chunks, size FROM imsync_snapshot.snapshot_headers WHERE persistence_id = ?", pid));
  }

  private static int chunkRows(String pid, long seq) {
    return get(cql.selectAll("SELECT chunk_nr FROM imsync_snapshot.snapshot_chunks WHERE persistence_id = ? AND sequence_nr = ?", pid, seq))
        .size();
  }

  @Test
  void accountOf100000SessionsSnapshotsInChunksAndRecoversFromTheSnapshotAlone() {
    String account = "big-" + System.nanoTime();
    var ref = spawn(account);
    int sessions = 100_000;
    long t0 = System.nanoTime();
    for (int from = 0; from < sessions; from += 2_000) {
      List<IngestItem> batch = new ArrayList<>(2_000);
      for (int i = from; i < from + 2_000; i++) {
        batch.add(new IngestItem.Message("s" + i, "direct", "Title " + i, 1, "peer" + (i % 977), "hello there, message " + i,
            1_700_000_000_000L + i, List.of()));
      }
      assertEquals(new AccountEntity.IngestReply(2_000, 0), ask(ref, r -> new AccountEntity.Ingest(batch, r), AccountEntity.IngestReply.class));
    }
    System.out.printf("ingested %,d sessions in %d ms%n", sessions, (System.nanoTime() - t0) / 1_000_000);
    var before = ask(ref, AccountEntity.GetStats::new, AccountEntity.StatsReply.class);
    var firstPage = ask(ref, r -> new AccountEntity.Sync(null, null, 100, 0, 0, null, r), AccountEntity.SyncReply.class);

    long t1 = System.nanoTime();
    passivate(ref);
    System.out.printf("snapshot at rest of %,d sessions written in %d ms%n", sessions, (System.nanoTime() - t1) / 1_000_000);
    List<Row> h = headers("Account|" + account);
    assertEquals(1, h.size());
    long bytes = h.get(0).getLong("size");
    System.out.printf("snapshot of %,d sessions: %,d bytes (%.1f B/session) in %d chunks%n", sessions, bytes, (double) bytes / sessions,
        h.get(0).getInt("chunks"));
    assertTrue(h.get(0).getInt("chunks") > 1, "several chunks of 256 KiB");
    assertEquals(h.get(0).getInt("chunks"), chunkRows("Account|" + account, h.get(0).getLong("sequence_nr")));

    long t2 = System.nanoTime();
    var again = spawn(account);
    var after = ask(again, AccountEntity.GetStats::new, AccountEntity.StatsReply.class);
    System.out.printf("recovery of a %,d-session account (snapshot read + decode + indexes): %d ms%n", sessions,
        (System.nanoTime() - t2) / 1_000_000);
    assertEquals(sessions, after.sessions());
    assertEquals(before.version(), after.version());
    assertEquals(0, after.eventsSinceSnapshot(), "recovered from the snapshot alone");
    var page = ask(again, r -> new AccountEntity.Sync(null, null, 100, 0, 0, null, r), AccountEntity.SyncReply.class);
    assertEquals(firstPage.sessions(), page.sessions());
    Session one = ask(again, r -> new AccountEntity.GetSession("s4242", r), AccountEntity.SessionReply.class).session();
    assertEquals("hello there, message 4242", one.lastMessage().preview());
  }

  private static AccountSnapshot tinySnapshot(long version) {
    return new AccountSnapshot(version, 0, List.of(), List.of(), List.of(), List.of(), List.of(), version, List.of());
  }

  private static SelectedSnapshot load(String pid) {
    var reply = storeAsk(new SnapshotProtocol.LoadSnapshot(pid, SnapshotSelectionCriteria.latest(), Long.MAX_VALUE));
    var result = assertInstanceOf(SnapshotProtocol.LoadSnapshotResult.class, reply, String.valueOf(reply));
    return result.snapshot().isEmpty() ? null : result.snapshot().get();
  }

  @Test
  void snapshotWithoutItsHeaderOrWithChunksMissingIsNeverLoaded() {
    String pid = "half-" + System.nanoTime();
    var saved = storeAsk(new SnapshotProtocol.SaveSnapshot(new SnapshotMetadata(pid, 10, 1000), tinySnapshot(10)));
    assertInstanceOf(akka.persistence.SaveSnapshotSuccess.class, saved, String.valueOf(saved));
    // seq 20: chunks written, then the writer died before the header
    ByteBuffer junk = ByteBuffer.wrap(new byte[] {1, 2, 3});
    get(cql.executeWrite("INSERT INTO imsync_snapshot.snapshot_chunks (persistence_id, sequence_nr, chunk_nr, data) VALUES (?, ?, ?, ?)",
        pid, 20L, 0, junk));
    // seq 30: a header whose chunks are partly gone
    byte[] full = new AccountSnapshotSerializer(null).toBinary(tinySnapshot(30));
    get(cql.executeWrite("INSERT INTO imsync_snapshot.snapshot_chunks (persistence_id, sequence_nr, chunk_nr, data) VALUES (?, ?, ?, ?)",
        pid, 30L, 0, ByteBuffer.wrap(full)));
    get(cql.executeWrite("INSERT INTO imsync_snapshot.snapshot_headers (persistence_id, sequence_nr, timestamp, ser_id, ser_manifest, "
        + "chunks, size) VALUES (?, ?, ?, ?, ?, ?, ?)", pid, 30L, 3000L, AccountSnapshotSerializer.IDENTIFIER, "S1", 2,
        (long) full.length * 2));

    SelectedSnapshot loaded = load(pid);
    assertEquals(10, loaded.metadata().sequenceNr(), "the newest complete snapshot");
    assertEquals(tinySnapshot(10), loaded.snapshot());

    // retention up to 25 removes the complete one and what the cut-off write left behind
    var deleted = storeAsk(new SnapshotProtocol.DeleteSnapshots(pid, SnapshotSelectionCriteria.create(25, Long.MAX_VALUE)));
    assertInstanceOf(akka.persistence.DeleteSnapshotsSuccess.class, deleted, String.valueOf(deleted));
    assertEquals(0, chunkRows(pid, 20));
    assertEquals(0, chunkRows(pid, 10));
    assertEquals(1, headers(pid).size(), "only seq 30 is left");
    var failed = storeAsk(new SnapshotProtocol.LoadSnapshot(pid, SnapshotSelectionCriteria.latest(), Long.MAX_VALUE));
    assertInstanceOf(SnapshotProtocol.LoadSnapshotFailed.class, failed, "a snapshot with missing chunks fails to load: "
        + failed);
  }

  @Test
  void accountAtRestAfterChangesRecoversReplayingNothingAndLosesNoAcknowledgedWrite() {
    String account = "rest-" + System.nanoTime();
    var ref = spawn(account);
    for (int i = 1; i <= 7; i++) {
      int seq = i;
      ask(ref, r -> new AccountEntity.Ingest(List.of(new IngestItem.Message("s" + (seq % 3), "direct", "T", seq, "bob", "m" + seq,
          1000 + seq, List.of())), r), AccountEntity.IngestReply.class);
    }
    ask(ref, r -> new AccountEntity.SetDraft("s1", "later", r), AccountEntity.SessionReply.class);
    assertEquals(8, ask(ref, AccountEntity.GetStats::new, AccountEntity.StatsReply.class).eventsSinceSnapshot());
    var synced = ask(ref, r -> new AccountEntity.Sync(null, null, 100, 0, 0, null, r), AccountEntity.SyncReply.class);
    passivate(ref);

    var again = spawn(account);
    var stats = ask(again, AccountEntity.GetStats::new, AccountEntity.StatsReply.class);
    assertEquals(0, stats.eventsSinceSnapshot(), "one snapshot read, no replay");
    assertEquals(synced.sessions(), ask(again, r -> new AccountEntity.Sync(null, null, 100, 0, 0, null, r), AccountEntity.SyncReply.class)
        .sessions());

    // an account stopped without rest (a crash) replays what came after its last snapshot, losing nothing
    ask(again, r -> new AccountEntity.SetMute("s2", 77, r), AccountEntity.SessionReply.class);
    ask(again, r -> new AccountEntity.SetDraft("s1", "", r), AccountEntity.SessionReply.class);
    TestProbe<Object> watcher = TestProbe.create(node.system);
    Adapter.toClassic(node.system).stop(Adapter.toClassic(again));
    watcher.expectTerminated(again, T);
    var third = spawn(account);
    var s = ask(third, AccountEntity.GetStats::new, AccountEntity.StatsReply.class);
    assertEquals(2, s.eventsSinceSnapshot(), "the two changes after the snapshot were replayed");
    assertEquals(77, ask(third, r -> new AccountEntity.GetSession("s2", r), AccountEntity.SessionReply.class).session().mutedUntil());
    assertEquals(null, ask(third, r -> new AccountEntity.GetSession("s1", r), AccountEntity.SessionReply.class).session().draft());

    // an account at rest without changes since its snapshot takes no new one
    passivate(third);
    int snapshots = headers("Account|" + account).size();
    var fourth = spawn(account);
    assertEquals(0, ask(fourth, AccountEntity.GetStats::new, AccountEntity.StatsReply.class).eventsSinceSnapshot());
    passivate(fourth);
    assertEquals(snapshots, headers("Account|" + account).size(), "no snapshot without changes");
  }
}
