package imsync.storage;

import akka.Done;
import akka.actor.ActorRef;
import akka.dispatch.Futures;
import akka.pattern.Patterns;
import akka.persistence.Persistence;
import akka.persistence.SelectedSnapshot;
import akka.persistence.SnapshotMetadata;
import akka.persistence.SnapshotProtocol;
import akka.persistence.SnapshotSelectionCriteria;
import akka.persistence.snapshot.japi.SnapshotStore;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializers;
import akka.stream.alpakka.cassandra.javadsl.CassandraSession;
import akka.stream.alpakka.cassandra.javadsl.CassandraSessionRegistry;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;
import scala.jdk.javaapi.OptionConverters;

/**
 * Snapshot store for snapshots of any size, on the Cassandra session of akka-persistence-cassandra. A
 * snapshot's serialized bytes are split into rows of at most {@code chunk-size} (no write comes near
 * Cassandra's frame or mutation limits, whatever the account's size); the chunks are written first and
 * a header row (serializer, chunk count, byte count) last, and a load only considers snapshots that have
 * a header, so a snapshot cut off half-way is never loaded. Deleting goes header first, for the same
 * reason. Schema: {@code cassandra/schema/snapshot-chunks.cql}, created here when {@code tables-autocreate}.
 *
 * <p>An account without a snapshot here is looked up in {@code legacy-plugin} (the plugin's own snapshot
 * table, which held every snapshot before this store), so accounts snapshotted earlier keep their state.
 *
 * <p>{@link EraseSnapshots} (an account's erasure, API v1.2) removes every snapshot row of an account up to a
 * sequence number, here and in the legacy table, and answers once a read finds none.
 */
public final class ChunkedSnapshotStore extends SnapshotStore {
  private final CassandraSession session;
  private final Serialization serialization;
  private final Executor executor;
  /**
   * For the short callbacks between Cassandra calls: the session's futures are Scala futures seen as
   * CompletionStages, whose non-async stages run through the common pool, and on a 2-core machine that
   * pool starts a new thread per task (several per snapshot loaded or saved).
   */
  private static final Executor DIRECT = Runnable::run;
  /** For {@link Outages}' attempts, which run off this actor (its own log() is for the actor's thread). */
  private static final org.slf4j.Logger SETUP_LOG = org.slf4j.LoggerFactory.getLogger(ChunkedSnapshotStore.class);
  private final String keyspace;
  private final int chunkSize;
  private final int maxLoadAttempts;
  private final String readProfile;
  private final String writeProfile;
  private final String legacyPlugin;
  private final Duration legacyTimeout;
  private final CompletionStage<Done> schemaReady;
  /**
   * Whether loads look in the legacy table: only when it held rows when this store started. Nothing writes
   * there any more, so a table empty then stays empty, and a fresh install (or one whose old snapshots are
   * all gone) saves every account without a snapshot here a read and a query stream on each recovery.
   */
  private final CompletionStage<Boolean> legacyLoads;
  private final String legacyTable;

  private CompletionStage<PreparedStatement> insertChunk;
  private CompletionStage<PreparedStatement> insertHeader;
  private CompletionStage<PreparedStatement> selectHeaders;
  private CompletionStage<PreparedStatement> selectChunks;
  private CompletionStage<PreparedStatement> deleteHeader;
  private CompletionStage<PreparedStatement> deleteChunks;
  private CompletionStage<PreparedStatement> deleteHeaderRange;
  private CompletionStage<PreparedStatement> deleteChunkRange;
  private CompletionStage<PreparedStatement> selectAnyChunk;
  private final akka.actor.ActorSystem system;
  /** Started on the first load that needs it; loads run on futures, hence the lock. */
  private ActorRef legacy;

  public ChunkedSnapshotStore(Config config, String configPath) {
    this.system = context().system();
    this.serialization = SerializationExtension.get(system);
    this.executor = context().dispatcher();
    this.keyspace = config.getString("keyspace");
    this.chunkSize = (int) Math.min(Integer.MAX_VALUE - 64, config.getBytes("chunk-size"));
    if (chunkSize < 1) throw new IllegalArgumentException(configPath + ".chunk-size must be positive");
    this.maxLoadAttempts = config.getInt("max-load-attempts");
    this.readProfile = config.getString("read-profile");
    this.writeProfile = config.getString("write-profile");
    this.legacyPlugin = config.getString("legacy-plugin");
    this.legacyTimeout = config.getDuration("legacy-timeout");
    this.session = CassandraSessionRegistry.get(system).sessionFor(config.getString("session-config-path"));
    List<String> ddl = new ArrayList<>();
    if (config.getBoolean("keyspace-autocreate")) {
      // as cassandra/schema: NetworkTopologyStrategy, the local datacenter's replication factor (dev and
      // tests: 1 on their single node)
      ddl.add(Schema.createKeyspace(keyspace, config.getString("local-datacenter"), config.getInt("replication-factor")));
    }
    if (config.getBoolean("tables-autocreate")) ddl.addAll(createTables(keyspace));
    // each statement tried until Cassandra takes it: the statements below are prepared once, after these
    this.schemaReady = Schema.create(ddl, session::executeDDL, () -> false);
    this.legacyTable = config.getString("legacy-table");
    this.legacyLoads = legacyTableNow().thenComposeAsync(exists -> exists ? legacyHasRows() : CompletableFuture.completedFuture(false), DIRECT);
  }

  /**
   * One row of the legacy table, if any. The read is tried until Cassandra answers (loads that need the answer
   * wait for it): a failure taken for "rows" would send every later load of this node there too.
   */
  private CompletionStage<Boolean> legacyHasRows() {
    return Outages.untilAnswered("looking for rows in the legacy snapshot table " + legacyTable,
            () -> session.selectOne(SimpleStatement
                .newInstance("SELECT persistence_id FROM " + keyspace + "." + legacyTable + " LIMIT 1").setExecutionProfileName(readProfile)),
            () -> false, SETUP_LOG)
        .handle((row, failure) -> {
          if (failure != null) {
            log().warning("could not tell whether the legacy snapshot table {} has rows ({}); loads will look there", legacyTable, failure.toString());
            return true;
          }
          if (row.isEmpty()) log().info("legacy snapshot table {} is empty: loads will not look there", legacyTable);
          return row.isPresent();
        });
  }

  /** Whether the legacy table exists, from the driver's schema metadata (kept current by schema events). */
  private CompletionStage<Boolean> legacyTableNow() {
    if (legacyPlugin.isEmpty()) return CompletableFuture.completedFuture(false);
    return session.underlying().thenApplyAsync(cs -> cs.getMetadata().getKeyspace(keyspace).flatMap(k -> k.getTable(legacyTable)).isPresent(),
        DIRECT);
  }

  /** The tables, as in cassandra/schema/snapshot-chunks.cql (that file is what production applies). */
  static List<String> createTables(String keyspace) {
    return List.of(
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".snapshot_headers ("
            + "persistence_id text, sequence_nr bigint, timestamp bigint, ser_id int, ser_manifest text, "
            + "chunks int, size bigint, PRIMARY KEY (persistence_id, sequence_nr)) "
            + "WITH CLUSTERING ORDER BY (sequence_nr DESC) AND gc_grace_seconds = 864000",
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".snapshot_chunks ("
            + "persistence_id text, sequence_nr bigint, chunk_nr int, data blob, "
            + "PRIMARY KEY (persistence_id, sequence_nr, chunk_nr)) "
            + "WITH CLUSTERING ORDER BY (sequence_nr DESC, chunk_nr ASC) AND gc_grace_seconds = 864000");
  }

  private CompletionStage<PreparedStatement> prepared(String cql) {
    return schemaReady.thenComposeAsync(d -> session.prepare(cql), DIRECT);
  }

  @Override
  public void preStart() throws Exception {
    super.preStart();
    String h = keyspace + ".snapshot_headers";
    String c = keyspace + ".snapshot_chunks";
    insertChunk = prepared("INSERT INTO " + c + " (persistence_id, sequence_nr, chunk_nr, data) VALUES (?, ?, ?, ?)");
    insertHeader = prepared("INSERT INTO " + h + " (persistence_id, sequence_nr, timestamp, ser_id, ser_manifest, chunks, size) "
        + "VALUES (?, ?, ?, ?, ?, ?, ?)");
    selectHeaders = prepared("SELECT sequence_nr, timestamp, ser_id, ser_manifest, chunks, size FROM " + h
        + " WHERE persistence_id = ? AND sequence_nr <= ? AND sequence_nr >= ?");
    selectChunks = prepared("SELECT chunk_nr, data FROM " + c + " WHERE persistence_id = ? AND sequence_nr = ?");
    deleteHeader = prepared("DELETE FROM " + h + " WHERE persistence_id = ? AND sequence_nr = ?");
    deleteChunks = prepared("DELETE FROM " + c + " WHERE persistence_id = ? AND sequence_nr = ?");
    deleteHeaderRange = prepared("DELETE FROM " + h + " WHERE persistence_id = ? AND sequence_nr >= ? AND sequence_nr <= ?");
    deleteChunkRange = prepared("DELETE FROM " + c + " WHERE persistence_id = ? AND sequence_nr >= ? AND sequence_nr <= ?");
    selectAnyChunk = prepared("SELECT sequence_nr FROM " + c + " WHERE persistence_id = ? AND sequence_nr <= ? LIMIT 1");
  }

  /**
   * Every row of a read, straight from the driver: Alpakka's selectAll materializes an Akka stream per query,
   * which on a recovery-heavy load (fan-out into new accounts) was a visible share of the node's CPU.
   */
  private CompletionStage<List<Row>> rows(BoundStatement statement) {
    return session.underlying()
        .thenComposeAsync(cs -> cs.executeAsync(statement), DIRECT)
        .thenComposeAsync(rs -> allRows(rs, new ArrayList<>()), DIRECT);
  }

  private static CompletionStage<List<Row>> allRows(AsyncResultSet rs, List<Row> into) {
    for (Row r : rs.currentPage()) into.add(r);
    return rs.hasMorePages()
        ? rs.fetchNextPage().thenComposeAsync(next -> allRows(next, into), DIRECT)
        : CompletableFuture.completedFuture(into);
  }

  private BoundStatement read(PreparedStatement ps, Object... values) {
    return ps.bind(values).setExecutionProfileName(readProfile);
  }

  private BoundStatement write(PreparedStatement ps, Object... values) {
    return ps.bind(values).setExecutionProfileName(writeProfile);
  }

  // ------------------------------------------------------------ save

  @Override
  public Future<Void> doSaveAsync(SnapshotMetadata metadata, Object snapshot) {
    // serializing a large account takes a while: off the store's own actor
    CompletionStage<Void> done = CompletableFuture.supplyAsync(() -> serialized(snapshot), executor)
        .thenComposeAsync(s -> save(metadata, s), DIRECT);
    return FutureConverters.asScala(done);
  }

  private record Serialized(int serId, String manifest, byte[] bytes) {}

  private Serialized serialized(Object snapshot) {
    var serializer = serialization.findSerializerFor(snapshot);
    return new Serialized(serializer.identifier(), Serializers.manifestFor(serializer, snapshot), serializer.toBinary(snapshot));
  }

  private CompletionStage<Void> save(SnapshotMetadata m, Serialized s) {
    int chunks = Math.max(1, (s.bytes().length + chunkSize - 1) / chunkSize);
    CompletableFuture<?>[] writes = new CompletableFuture<?>[chunks];
    for (int i = 0; i < chunks; i++) {
      int from = i * chunkSize;
      ByteBuffer data = ByteBuffer.wrap(s.bytes(), from, Math.min(chunkSize, s.bytes().length - from)).slice();
      int nr = i;
      writes[i] = insertChunk.thenComposeAsync(ps -> session.executeWrite(write(ps, m.persistenceId(), m.sequenceNr(), nr, data)), DIRECT)
          .toCompletableFuture();
    }
    // the header goes last: a snapshot without one is never loaded
    return CompletableFuture.allOf(writes)
        .thenComposeAsync(d -> insertHeader, DIRECT)
        .thenComposeAsync(ps -> session.executeWrite(write(ps, m.persistenceId(), m.sequenceNr(), m.timestamp(), s.serId(),
            s.manifest(), chunks, (long) s.bytes().length)), DIRECT)
        .thenApplyAsync(d -> null, DIRECT);
  }

  // ------------------------------------------------------------ load

  private record Header(long sequenceNr, long timestamp, int serId, String manifest, int chunks, long size) {}

  @Override
  public Future<Optional<SelectedSnapshot>> doLoadAsync(String persistenceId, SnapshotSelectionCriteria criteria) {
    CompletionStage<Optional<SelectedSnapshot>> result = selectHeaders
        .thenComposeAsync(ps -> rows(read(ps, persistenceId, criteria.maxSequenceNr(), criteria.minSequenceNr())), DIRECT)
        .thenComposeAsync(rows -> {
          List<Header> candidates = new ArrayList<>();
          for (Row r : rows) {
            Header h = new Header(r.getLong("sequence_nr"), r.getLong("timestamp"), r.getInt("ser_id"), r.getString("ser_manifest"),
                r.getInt("chunks"), r.getLong("size"));
            if (h.timestamp() <= criteria.maxTimestamp() && h.timestamp() >= criteria.minTimestamp()) candidates.add(h);
            if (candidates.size() == maxLoadAttempts) break;
          }
          if (candidates.isEmpty()) return loadLegacy(persistenceId, criteria);
          return loadFirst(persistenceId, candidates, 0, null);
        }, DIRECT);
    return FutureConverters.asScala(result);
  }

  /** The newest candidate that loads; a failing one (chunks lost, corrupt) gives way to the next older. */
  private CompletionStage<Optional<SelectedSnapshot>> loadFirst(String pid, List<Header> candidates, int i, Throwable last) {
    if (i == candidates.size()) return CompletableFuture.failedFuture(last);
    Header h = candidates.get(i);
    return selectChunks
        .thenComposeAsync(ps -> rows(read(ps, pid, h.sequenceNr())), DIRECT)
        .thenApplyAsync(rows -> Optional.of(SelectedSnapshot.create(new SnapshotMetadata(pid, h.sequenceNr(), h.timestamp()),
            deserialize(h, rows))), executor)
        .handleAsync((ok, err) -> err == null
            ? CompletableFuture.completedFuture(ok)
            : loadFirst(pid, candidates, i + 1, err), DIRECT)
        .thenComposeAsync(x -> x, DIRECT);
  }

  private Object deserialize(Header h, List<Row> rows) {
    if (rows.size() != h.chunks()) {
      throw new IllegalStateException("snapshot " + h.sequenceNr() + ": " + rows.size() + " of " + h.chunks() + " chunks found");
    }
    if (h.size() > Integer.MAX_VALUE - 64) throw new IllegalStateException("snapshot " + h.sequenceNr() + " too large");
    byte[] bytes = new byte[(int) h.size()];
    int at = 0;
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      if (r.getInt("chunk_nr") != i) throw new IllegalStateException("snapshot " + h.sequenceNr() + ": chunk " + i + " missing");
      ByteBuffer data = r.getByteBuffer("data");
      int n = data == null ? 0 : data.remaining();
      if (at + n > bytes.length) throw new IllegalStateException("snapshot " + h.sequenceNr() + ": more bytes than its header says");
      if (n > 0) data.duplicate().get(bytes, at, n);
      at += n;
    }
    if (at != bytes.length) throw new IllegalStateException("snapshot " + h.sequenceNr() + ": " + at + " of " + h.size() + " bytes");
    return serialization.deserialize(bytes, h.serId(), h.manifest()).get();
  }

  /** Snapshots stored before this store, by the plugin named in legacy-plugin. */
  private CompletionStage<Optional<SelectedSnapshot>> loadLegacy(String pid, SnapshotSelectionCriteria criteria) {
    return legacyLoads.thenComposeAsync(look -> look ? askLegacy(pid, criteria) : CompletableFuture.completedFuture(Optional.empty()), DIRECT);
  }

  private CompletionStage<Optional<SelectedSnapshot>> askLegacy(String pid, SnapshotSelectionCriteria criteria) {
    ActorRef store = legacyStore();
    return Patterns.ask(store, new SnapshotProtocol.LoadSnapshot(pid, criteria, criteria.maxSequenceNr()), legacyTimeout)
        .thenApplyAsync(reply -> {
          if (reply instanceof SnapshotProtocol.LoadSnapshotResult r) return OptionConverters.toJava(r.snapshot());
          if (reply instanceof SnapshotProtocol.LoadSnapshotFailed f) throw new IllegalStateException("legacy snapshot", f.cause());
          throw new IllegalStateException("unexpected reply from " + legacyPlugin + ": " + reply);
        }, DIRECT);
  }

  private synchronized ActorRef legacyStore() {
    if (legacy == null) legacy = Persistence.get(system).snapshotStoreFor(legacyPlugin, ConfigFactory.empty());
    return legacy;
  }

  // ------------------------------------------------------------ erase (API v1.2)

  /**
   * Asks the store to remove every snapshot of {@code persistenceId} up to {@code throughSequenceNr}: headers,
   * every chunk (those of a snapshot cut off half-way included) and the legacy plugin's rows. Answered
   * {@code Done} once a read finds none of them, or {@code Status.Failure}.
   */
  public record EraseSnapshots(String persistenceId, long throughSequenceNr) {}

  private static final int ERASE_ATTEMPTS = 3;

  @Override
  public scala.PartialFunction<Object, scala.runtime.BoxedUnit> receivePluginInternal() {
    return akka.japi.pf.ReceiveBuilder.create()
        .match(EraseSnapshots.class, e -> Patterns.pipe(erase(e.persistenceId(), e.throughSequenceNr(), 1), context().dispatcher())
            .to(sender()))
        .build().onMessage();
  }

  private CompletionStage<Done> erase(String pid, long through, int attempt) {
    SnapshotSelectionCriteria all = SnapshotSelectionCriteria.create(through, Long.MAX_VALUE);
    // a snapshot save started before the erasure may land after a delete: read back, delete again
    return FutureConverters.asJava(doDeleteAsync(pid, new SnapshotSelectionCriteria(through, Long.MAX_VALUE, 0, 0)))
        // asked anew: a table the plugin created after this store started (dev and tests) is erased too
        .thenComposeAsync(v -> legacyTableNow(), DIRECT)
        .thenComposeAsync(legacy -> (legacy ? legacyDelete(pid, all) : CompletableFuture.completedFuture(Done.getInstance()))
            .thenComposeAsync(d -> anyLeft(pid, through, legacy ? askLegacy(pid, all) : CompletableFuture.completedFuture(Optional.empty())),
                DIRECT), DIRECT)
        .thenComposeAsync(left -> {
          if (!left) return CompletableFuture.completedFuture(Done.getInstance());
          if (attempt >= ERASE_ATTEMPTS) {
            return CompletableFuture.<Done>failedFuture(new IllegalStateException("snapshots of " + pid + " still readable"));
          }
          return erase(pid, through, attempt + 1);
        }, DIRECT);
  }

  private CompletionStage<Done> legacyDelete(String pid, SnapshotSelectionCriteria criteria) {
    return Patterns.ask(legacyStore(), new SnapshotProtocol.DeleteSnapshots(pid, criteria), legacyTimeout)
        .thenApplyAsync(reply -> {
          if (reply instanceof akka.persistence.DeleteSnapshotsSuccess) return Done.getInstance();
          if (reply instanceof akka.persistence.DeleteSnapshotsFailure f) throw new IllegalStateException("legacy snapshot delete", f.cause());
          throw new IllegalStateException("unexpected reply from " + legacyPlugin + ": " + reply);
        }, DIRECT);
  }

  /** Whether a header or a chunk up to {@code through}, or a legacy snapshot, can still be read. */
  private CompletionStage<Boolean> anyLeft(String pid, long through, CompletionStage<Optional<SelectedSnapshot>> legacyLeft) {
    return selectHeaders
        .thenComposeAsync(ps -> session.selectOne(read(ps, pid, through, 0L)), DIRECT)
        .thenComposeAsync(header -> header.isPresent() ? CompletableFuture.completedFuture(true)
            : selectAnyChunk.thenComposeAsync(ps -> session.selectOne(read(ps, pid, through)), DIRECT)
                .thenApplyAsync(java.util.Optional::isPresent, DIRECT), DIRECT)
        .thenComposeAsync(found -> found ? CompletableFuture.completedFuture(true) : legacyLeft.thenApplyAsync(Optional::isPresent, DIRECT),
            DIRECT);
  }

  // ------------------------------------------------------------ delete

  @Override
  public Future<Void> doDeleteAsync(SnapshotMetadata m) {
    CompletionStage<Void> done = deleteHeader
        .thenComposeAsync(ps -> session.executeWrite(write(ps, m.persistenceId(), m.sequenceNr())), DIRECT)
        .thenComposeAsync(d -> deleteChunks, DIRECT)
        .thenComposeAsync(ps -> session.executeWrite(write(ps, m.persistenceId(), m.sequenceNr())), DIRECT)
        .thenApplyAsync(d -> null, DIRECT);
    return FutureConverters.asScala(done);
  }

  @Override
  public Future<Void> doDeleteAsync(String pid, SnapshotSelectionCriteria c) {
    if (c.maxSequenceNr() < c.minSequenceNr()) return Futures.successful(null);
    if (c.minTimestamp() == 0 && c.maxTimestamp() == Long.MAX_VALUE) {
      // retention: range deletes, which also remove chunks a half-written snapshot left behind
      CompletionStage<Void> done = deleteHeaderRange
          .thenComposeAsync(ps -> session.executeWrite(write(ps, pid, c.minSequenceNr(), c.maxSequenceNr())), DIRECT)
          .thenComposeAsync(d -> deleteChunkRange, DIRECT)
          .thenComposeAsync(ps -> session.executeWrite(write(ps, pid, c.minSequenceNr(), c.maxSequenceNr())), DIRECT)
          .thenApplyAsync(d -> null, DIRECT);
      return FutureConverters.asScala(done);
    }
    CompletionStage<Void> done = selectHeaders
        .thenComposeAsync(ps -> rows(read(ps, pid, c.maxSequenceNr(), c.minSequenceNr())), DIRECT)
        .thenComposeAsync(rows -> {
          CompletionStage<Void> all = CompletableFuture.completedFuture(null);
          for (Row r : rows) {
            long ts = r.getLong("timestamp");
            if (ts < c.minTimestamp() || ts > c.maxTimestamp()) continue;
            SnapshotMetadata m = new SnapshotMetadata(pid, r.getLong("sequence_nr"), ts);
            all = all.thenComposeAsync(v -> FutureConverters.asJava(doDeleteAsync(m)), DIRECT);
          }
          return all;
        }, DIRECT);
    return FutureConverters.asScala(done);
  }
}
