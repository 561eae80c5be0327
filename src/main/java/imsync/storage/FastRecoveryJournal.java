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
 * the start) goes on with the plugin's search; events tagged for eventsByTag go to the plugin's own method.
 * As in the plugin, the read waits for a write of the same account still in flight (a restart after a
 * timed-out write must see it).
 */
public final class FastRecoveryJournal extends CassandraJournal {
  private static final Executor DIRECT = Runnable::run;

  private final CassandraSession session;
  private final String readProfile;
  private final long partitionSize;
  private final boolean supportDeletes;
  private final boolean tagsEnabled;
  private final Prepared selectHighest;
  private final Prepared selectDeletedTo;
  /** Writes in flight by persistence id (the plugin keeps its own, private, for its own search). */
  private final ConcurrentHashMap<String, Future<?>> writing = new ConcurrentHashMap<>();

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
    this.selectHighest = new Prepared("SELECT sequence_nr FROM " + keyspace + "." + journal.getString("table")
        + " WHERE persistence_id = ? AND partition_nr = ? ORDER BY sequence_nr DESC LIMIT 1");
    this.selectDeletedTo = new Prepared("SELECT deleted_to FROM " + keyspace + "." + journal.getString("metadata-table") + " WHERE persistence_id = ?");
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
    CompletionStage<Object> highest = before.thenComposeAsync(v -> highest(persistenceId, fromSequenceNr), DIRECT)
        .thenApply(h -> (Object) h);
    return FutureConverters.asScala(highest);
  }

  /**
   * One round trip when it settles the answer; otherwise the plugin's search, partition after partition
   * until two in a row are empty (done here, off the journal actor: the plugin's own method reads state
   * only that actor may touch).
   */
  private CompletionStage<Long> highest(String pid, long from) {
    long partition = partitionNr(from);
    CompletionStage<Long> deletedTo = supportDeletes
        ? selectDeletedTo.get().thenComposeAsync(ps -> session.selectOne(ps.bind(pid).setExecutionProfileName(readProfile)), DIRECT)
            .thenApply(row -> row.map(r -> r.getLong("deleted_to")).orElse(0L))
        : CompletableFuture.completedFuture(0L);
    CompletionStage<Long> inPartition = highestIn(pid, partition);
    CompletionStage<Long> inNext = highestIn(pid, partition + 1);
    return deletedTo.thenCombine(inPartition, (deleted, h) -> new long[] {deleted, h})
        .thenCombine(inNext, (dh, next) -> new long[] {dh[0], dh[1], next})
        .thenComposeAsync(r -> {
          long start = Math.max(from, r[0]);
          long h = r[1];
          long next = r[2];
          if (partitionNr(start) == partition && next == 0) {
            // both partitions empty: as the plugin answers (0 for a new account)
            if (h == 0) return CompletableFuture.completedFuture(start);
            // below the partition's end, the event after h would be stored in this partition or the next
            // (an atomic write goes to the partition of its last event, and spans two at most): there is none
            if (h >= start && h < (partition + 1) * partitionSize) return CompletableFuture.completedFuture(h);
          }
          // events near a partition boundary, or deleted past this partition
          return search(pid, partitionNr(start), start, false);
        }, DIRECT);
  }

  /** The plugin's search: from {@code partition} on, until two partitions in a row are empty. */
  private CompletionStage<Long> search(String pid, long partition, long highest, boolean foundEmpty) {
    return highestIn(pid, partition).thenComposeAsync(h -> {
      if (h != 0) return search(pid, partition + 1, h, false);
      return foundEmpty ? CompletableFuture.completedFuture(highest) : search(pid, partition + 1, highest, true);
    }, DIRECT);
  }

  /** The highest sequence number stored in one partition; 0 when it has none. */
  private CompletionStage<Long> highestIn(String pid, long partition) {
    return selectHighest.get()
        .thenComposeAsync(ps -> session.selectOne(ps.bind(pid, partition).setExecutionProfileName(readProfile)), DIRECT)
        .thenApply(row -> row.map(r -> r.getLong("sequence_nr")).orElse(0L));
  }

  private long partitionNr(long sequenceNr) {
    return (sequenceNr - 1L) / partitionSize;
  }

  /**
   * A statement prepared on first use. The session already waits out an outage ({@link PatientSession}); a
   * prepare that still failed (its table missing for over a minute) is prepared again by the next read.
   */
  private final class Prepared {
    private final String cql;
    private CompletionStage<PreparedStatement> statement;

    Prepared(String cql) {
      this.cql = cql;
    }

    synchronized CompletionStage<PreparedStatement> get() {
      if (statement == null || statement.toCompletableFuture().isCompletedExceptionally()) statement = session.prepare(cql);
      return statement;
    }
  }
}
