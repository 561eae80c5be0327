package imsync.storage;

import akka.Done;
import akka.actor.ActorSystem;
import akka.actor.ExtendedActorSystem;
import akka.actor.Extension;
import akka.actor.ExtensionId;
import akka.actor.ExtensionIdProvider;
import akka.persistence.cassandra.cleanup.Cleanup;
import akka.stream.BoundedSourceQueue;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import scala.jdk.javaapi.FutureConverters;

/**
 * Removes an account's journal events once two snapshots cover them, on a schedule of its own: a bounded
 * queue, a rate and a few deletes at a time, so disk per account stops growing with its message count without
 * the burst that deleting on every snapshot caused (a 500-member room snapshots its members together; their
 * deletes opened the journal's breaker). Events up to the older of the two kept snapshots go: recovery reads
 * the latest snapshot and what follows it, and a latest snapshot that fails to load falls back to the older
 * one with its events still there. A trim that finds the queue full is dropped; the account's next snapshot
 * asks again. One range tombstone per partition results; recovery reads after it, so reads do not meet it.
 */
public final class EventRetention implements Extension {
  private final BoundedSourceQueue<Trim> queue;
  private final boolean enabled;
  /** The latest events always kept, whatever the snapshots: an operator's session history reads them. */
  private final long keepEvents;

  private record Trim(String persistenceId, long toSequenceNr) {}

  private EventRetention(ActorSystem system) {
    Config c = system.settings().config();
    this.enabled = c.hasPath("imsync.retention.enabled") && c.getBoolean("imsync.retention.enabled");
    if (!enabled) {
      queue = null;
      keepEvents = 0;
      return;
    }
    Config r = c.getConfig("imsync.retention");
    keepEvents = r.getLong("keep-events");
    Cleanup cleanup = new Cleanup(system);
    int perSecond = r.getInt("deletes-per-second");
    queue = Source.<Trim>queue(r.getInt("max-waiting"))
        .throttle(perSecond, Duration.ofSeconds(1))
        .mapAsyncUnordered(r.getInt("parallelism"), t -> delete(cleanup, t))
        .to(Sink.ignore())
        .run(system);
  }

  /** Never fails: a failed delete is retried by the account's next snapshot. */
  private static CompletionStage<Done> delete(Cleanup cleanup, Trim t) {
    try {
      return FutureConverters.asJava(cleanup.deleteEventsTo(t.persistenceId(), t.toSequenceNr()))
          .exceptionally(e -> Done.getInstance());
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(Done.getInstance());
    }
  }

  /**
   * After a snapshot at {@code latestSnapshot}, with the one before at {@code previousSnapshot}: asks for the
   * events up to the previous one to go, some time later, but never the latest {@code keep-events}. False when
   * there is nothing to trim or it was dropped (queue full, off).
   */
  public boolean trim(String persistenceId, long previousSnapshot, long latestSnapshot) {
    if (!enabled) return false;
    long toSequenceNr = Math.min(previousSnapshot, latestSnapshot - keepEvents);
    if (toSequenceNr <= 0) return false;
    return queue.offer(new Trim(persistenceId, toSequenceNr)) == akka.stream.QueueOfferResult.enqueued();
  }

  public static EventRetention get(akka.actor.typed.ActorSystem<?> system) {
    return Id.INSTANCE.get(akka.actor.typed.javadsl.Adapter.toClassic(system));
  }

  public static final class Id extends akka.actor.AbstractExtensionId<EventRetention> implements ExtensionIdProvider {
    public static final Id INSTANCE = new Id();

    @Override
    public EventRetention createExtension(ExtendedActorSystem system) {
      return new EventRetention(system);
    }

    @Override
    public ExtensionId<EventRetention> lookup() {
      return INSTANCE;
    }
  }
}
