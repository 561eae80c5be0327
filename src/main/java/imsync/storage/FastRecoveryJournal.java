package imsync.storage;

import akka.persistence.AtomicWrite;
import akka.persistence.cassandra.journal.CassandraJournal;
import akka.stream.alpakka.cassandra.javadsl.CassandraSession;
import akka.stream.alpakka.cassandra.javadsl.CassandraSessionRegistry;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.typesafe.config.Config;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * akka-persistence-cassandra's journal with a faster start for an account: the highest sequence number in one
 * round trip instead of three or four.
 *
 * <p>The plugin reads it one query after the other: the deleted-to mark, then the partition of the snapshot's
 * sequence number, then the next partitions until two in a row are empty. Every account not in memory pays
 * that before its first write or sync: three sequential reads for a new account, four for an existing one.
 * This journal reads the deleted-to mark and the two partitions at once, and answers from them whenever they
 * settle it: the next partition is empty, and the first one's highest sequence number is below its last
 * slot (or it is empty too). Sequence numbers have no gaps, and an atomic write is stored whole in the
 * partition of its last event, spanning two at most; so the event after that highest one would be in one of
 * the two partitions read, and there is none. Every other case (events at a partition boundary, deletes past
 * the start, events tagged for eventsByTag) goes to the plugin's own search. As in the plugin, the read waits for a write of the same account still in flight (a
 * restart after a timed-out write must see it).
 */
public final class FastRecoveryJournal extends CassandraJournal {
  private static final Executor DIRECT = Runnable::run;

  private final CassandraSession session;
  private final String readProfile;
  private final long partitionSize;
  private final boolean supportDeletes;
  private final boolean tagsEnabled;
  private final String selectHighestCql;
  private final String selectDeletedToCql;
  /** Writes in flight by persistence id (the plugin keeps its own, private, for its own search). */
  private final ConcurrentHashMap<String, Future<?>> writing = new ConcurrentHashMap<>();
  private CompletionStage<PreparedStatement> selectHighest;
  private CompletionStage<PreparedStatement> selectDeletedTo;

  public FastRecoveryJournal(Config cfg, String cfgPath) {
    super(cfg, cfgPath);
    String shared = cfgPath.replaceAll("\\.journal$", "");
    Config all = context().system().settings().config().getConfig(shared);
    Config journal = all.getConfig("journal");
    this.session = CassandraSessionRegistry.get(context().system()).sessionFor(shared);
    this.readProfile = all.getString("read-profile");
    this.partitionSize = journal.getLong("target-partition-size");
    this.supportDeletes = journal.getBoolean("support-deletes");
    this.tagsEnabled = all.getBoolean("events-by-tag.enabled");
    String keyspace = journal.getString("keyspace");
    this.selectHighestCql = "SELECT sequence_nr FROM " + keyspace + "." + journal.getString("table")
        + " WHERE persistence_id = ? AND partition_nr = ? ORDER BY sequence_nr DESC LIMIT 1";
    this.selectDeletedToCql = "SELECT deleted_to FROM " + keyspace + "." + journal.getString("metadata-table") + " WHERE persistence_id = ?";
  }

  @Override
  public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
    Future<Seq<Try<BoxedUnit>>> write = super.asyncWriteMessages(messages);
    String pid = messages.head().persistenceId();
    writing.put(pid, write);
    FutureConverters.asJava(write).whenComplete((done, failure) -> writing.remove(pid, write));
    return write;
  }

  @Override
  public Future<Object> asyncReadHighestSequenceNr(String persistenceId, long fromSequenceNr) {
    if (tagsEnabled) return super.asyncReadHighestSequenceNr(persistenceId, fromSequenceNr);
    Future<?> inFlight = writing.get(persistenceId);
    CompletionStage<?> before = inFlight == null
        ? CompletableFuture.completedFuture(null)
        : FutureConverters.asJava(inFlight).handle((v, e) -> null);
    CompletionStage<Long> fast = before.thenComposeAsync(v -> settled(persistenceId, fromSequenceNr), DIRECT);
    // the plugin's own search for every case the one round trip does not settle (its own wait included)
    CompletionStage<Object> highest = fast.thenComposeAsync(h -> h != null
        ? CompletableFuture.completedFuture((Object) h)
        : FutureConverters.asJava(super.asyncReadHighestSequenceNr(persistenceId, fromSequenceNr)), DIRECT);
    return FutureConverters.asScala(highest);
  }

  /** The highest sequence number when one round trip settles it; null otherwise. */
  private CompletionStage<Long> settled(String pid, long from) {
    long partition = partitionNr(from);
    CompletionStage<Long> deletedTo = supportDeletes
        ? prepared(true).thenComposeAsync(ps -> session.selectOne(ps.bind(pid).setExecutionProfileName(readProfile)), DIRECT)
            .thenApply(row -> row.map(r -> r.getLong("deleted_to")).orElse(0L))
        : CompletableFuture.completedFuture(0L);
    CompletionStage<Long> inPartition = highestIn(pid, partition);
    CompletionStage<Long> inNext = highestIn(pid, partition + 1);
    return deletedTo.thenCombine(inPartition, (deleted, h) -> new long[] {deleted, h})
        .thenCombine(inNext, (dh, next) -> {
          long start = Math.max(from, dh[0]);
          long h = dh[1];
          if (partitionNr(start) != partition) return null; // deleted past this partition
          if (next != 0) return null; // events near a partition boundary: the plugin's search
          if (h == 0) return start; // both partitions empty: as the plugin answers (0 for a new account)
          // below the partition's end, the event after h would be stored in this partition or the next (an
          // atomic write goes to the partition of its last event, and spans two at most): there is none
          return h >= start && h < (partition + 1) * partitionSize ? h : null;
        });
  }

  /** The highest sequence number stored in one partition; 0 when it has none. */
  private CompletionStage<Long> highestIn(String pid, long partition) {
    return prepared(false)
        .thenComposeAsync(ps -> session.selectOne(ps.bind(pid, partition).setExecutionProfileName(readProfile)), DIRECT)
        .thenApply(row -> row.map(r -> r.getLong("sequence_nr")).orElse(0L));
  }

  private long partitionNr(long sequenceNr) {
    return (sequenceNr - 1L) / partitionSize;
  }

  private synchronized CompletionStage<PreparedStatement> prepared(boolean deletedTo) {
    if (deletedTo) {
      if (selectDeletedTo == null) selectDeletedTo = retryingPrepare(selectDeletedToCql);
      return selectDeletedTo;
    }
    if (selectHighest == null) selectHighest = retryingPrepare(selectHighestCql);
    return selectHighest;
  }

  /** A failed prepare (tables not there yet, Cassandra away) is tried again by the next read, not cached. */
  private CompletionStage<PreparedStatement> retryingPrepare(String cql) {
    CompletionStage<PreparedStatement> p = session.prepare(cql);
    p.whenComplete((ps, failure) -> {
      if (failure != null) {
        synchronized (this) {
          if (selectHighest == p) selectHighest = null;
          if (selectDeletedTo == p) selectDeletedTo = null;
        }
      }
    });
    return p;
  }
}
