package imsync.storage;

import akka.Done;
import akka.actor.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import akka.actor.typed.javadsl.Adapter;
import akka.pattern.Patterns;
import akka.persistence.DeleteMessagesFailure;
import akka.persistence.DeleteMessagesSuccess;
import akka.persistence.DeleteSnapshotsFailure;
import akka.persistence.DeleteSnapshotsSuccess;
import akka.persistence.JournalProtocol;
import akka.persistence.Persistence;
import akka.persistence.SnapshotProtocol;
import akka.persistence.SnapshotSelectionCriteria;
import akka.stream.alpakka.cassandra.javadsl.CassandraSession;
import akka.stream.alpakka.cassandra.javadsl.CassandraSessionRegistry;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Removes the stored rows of an erased account (API v1.2): its journal events before the erasure marker,
 * through the journal plugin (which also records how far it deleted), and every snapshot before it,
 * through the snapshot store ({@link ChunkedSnapshotStore.EraseSnapshots}: every chunk, and the plugin's
 * legacy table). On Cassandra it then reads the journal back and repeats until no event before the marker
 * is left, so the caller learns of success only once nothing can be read back.
 */
public final class AccountErasure implements Extension {
  private static final Executor DIRECT = Runnable::run;
  private static final int ATTEMPTS = 3;
  /** When imsync.erasure is not configured (an entity on a test kit's journal). */
  private static final Duration DEFAULT_STEP_TIMEOUT = Duration.ofSeconds(10);

  private final ActorRef journal;
  private final ActorRef snapshots;
  private final boolean chunkedSnapshots;
  private final Duration timeout;
  /** The journal's table, read back after a delete; null when the journal is not akka-persistence-cassandra. */
  private final String messagesTable;
  private final long partitionSize;
  private final CassandraSession session;

  public static final class Id extends ExtensionId<AccountErasure> {
    @Override
    public AccountErasure createExtension(ActorSystem<?> system) {
      return new AccountErasure(system);
    }
  }

  private static final Id ID = new Id();

  public static AccountErasure get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private AccountErasure(ActorSystem<?> system) {
    Config config = system.settings().config();
    akka.actor.ActorSystem classic = Adapter.toClassic(system);
    String journalPlugin = config.getString("akka.persistence.journal.plugin");
    String snapshotPlugin = config.getString("akka.persistence.snapshot-store.plugin");
    Persistence persistence = Persistence.get(classic);
    this.journal = persistence.journalFor(journalPlugin, ConfigFactory.empty());
    this.snapshots = persistence.snapshotStoreFor(snapshotPlugin, ConfigFactory.empty());
    this.chunkedSnapshots = config.hasPath(snapshotPlugin + ".class")
        && config.getString(snapshotPlugin + ".class").equals(ChunkedSnapshotStore.class.getName());
    this.timeout = config.hasPath("imsync.erasure.step-timeout") ? config.getDuration("imsync.erasure.step-timeout") : DEFAULT_STEP_TIMEOUT;
    if (journalPlugin.equals("akka.persistence.cassandra.journal")) {
      this.messagesTable = config.getString("akka.persistence.cassandra.journal.keyspace") + "."
          + config.getString("akka.persistence.cassandra.journal.table");
      this.partitionSize = config.getLong("akka.persistence.cassandra.journal.target-partition-size");
      this.session = CassandraSessionRegistry.get(system).sessionFor("imsync.snapshot-store.session");
    } else {
      this.messagesTable = null;
      this.partitionSize = 1;
      this.session = null;
    }
  }

  /** Removes every event and snapshot of {@code persistenceId} below {@code marker}; completes once none is left. */
  public CompletionStage<Done> removeBefore(String persistenceId, long marker) {
    return attempt(persistenceId, marker - 1, 1);
  }

  private CompletionStage<Done> attempt(String pid, long through, int attempt) {
    if (through < 1) return CompletableFuture.completedFuture(Done.getInstance());
    return deleteEvents(pid, through)
        .thenComposeAsync(d -> deleteSnapshots(pid, through), DIRECT)
        .thenComposeAsync(d -> eventsLeft(pid, through), DIRECT)
        .thenComposeAsync(left -> {
          if (!left) return CompletableFuture.completedFuture(Done.getInstance());
          if (attempt >= ATTEMPTS) {
            return CompletableFuture.<Done>failedFuture(new IllegalStateException("events of " + pid + " still readable after "
                + attempt + " deletes"));
          }
          return attempt(pid, through, attempt + 1);
        }, DIRECT);
  }

  private CompletionStage<Done> deleteEvents(String pid, long through) {
    return Patterns.askWithReplyTo(journal, replyTo -> new JournalProtocol.DeleteMessagesTo(pid, through, replyTo), timeout)
        .thenApplyAsync(reply -> {
          if (reply instanceof DeleteMessagesSuccess) return Done.getInstance();
          if (reply instanceof DeleteMessagesFailure f) throw new IllegalStateException("journal delete failed", f.cause());
          throw new IllegalStateException("unexpected journal reply " + reply);
        }, DIRECT);
  }

  private CompletionStage<Done> deleteSnapshots(String pid, long through) {
    if (chunkedSnapshots) {
      return Patterns.ask(snapshots, new ChunkedSnapshotStore.EraseSnapshots(pid, through), timeout).thenApplyAsync(r -> Done.getInstance(), DIRECT);
    }
    SnapshotSelectionCriteria criteria = SnapshotSelectionCriteria.create(through, Long.MAX_VALUE);
    return Patterns.ask(snapshots, new SnapshotProtocol.DeleteSnapshots(pid, criteria), timeout)
        .thenApplyAsync(reply -> {
          if (reply instanceof DeleteSnapshotsSuccess) return Done.getInstance();
          if (reply instanceof DeleteSnapshotsFailure f) throw new IllegalStateException("snapshot delete failed", f.cause());
          throw new IllegalStateException("unexpected snapshot store reply " + reply);
        }, DIRECT);
  }

  /** Whether any journal row of {@code pid} up to {@code through} can still be read (Cassandra only). */
  private CompletionStage<Boolean> eventsLeft(String pid, long through) {
    if (session == null) return CompletableFuture.completedFuture(false);
    long lastPartition = (through - 1) / partitionSize;
    CompletionStage<Boolean> left = CompletableFuture.completedFuture(false);
    for (long p = 0; p <= lastPartition; p++) {
      long partition = p;
      left = left.thenComposeAsync(found -> found ? CompletableFuture.completedFuture(true)
          : session.selectOne("SELECT sequence_nr FROM " + messagesTable + " WHERE persistence_id = ? AND partition_nr = ? "
              + "AND sequence_nr <= ? LIMIT 1", pid, partition, through).thenApplyAsync(java.util.Optional::isPresent, DIRECT), DIRECT);
    }
    return left;
  }
}
