package imsync.metrics;

import com.codahale.metrics.Clock;
import com.codahale.metrics.Meter;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Per shard hosted here: requests and ingest deliveries its accounts handled, as one-minute exponentially
 * decaying rates (Dropwizard's {@link Meter}: a striped adder per mark, folded into the rate every 5 s).
 * Marking costs an add and a clock read; nothing is kept per account.
 */
public final class ShardLoad {

  /** One shard's rates. */
  public static final class Counters {
    private final Meter requests;
    private final Meter ingest;

    Counters(Clock clock) {
      requests = new Meter(clock);
      ingest = new Meter(clock);
    }

    /** A command an account of this shard handled (anything but an ingest). */
    public void request() {
      requests.mark();
    }

    /** Ingest deliveries (one per event delivered to an account) an account of this shard handled. */
    public void ingest(int deliveries) {
      ingest.mark(deliveries);
    }

    public double requestsPerSecond() {
      return requests.getOneMinuteRate();
    }

    public double ingestPerSecond() {
      return ingest.getOneMinuteRate();
    }
  }

  private final int numberOfShards;
  private final Clock clock;
  private final AtomicReferenceArray<Counters> shards;

  public ShardLoad(int numberOfShards, Clock clock) {
    this.numberOfShards = numberOfShards;
    this.clock = clock;
    this.shards = new AtomicReferenceArray<>(numberOfShards);
  }

  /** The shard an account lives in: Akka's default hash extractor (as sharding computes it). */
  public static int shardIndex(String accountId, int numberOfShards) {
    return Math.abs(accountId.hashCode() % numberOfShards);
  }

  public Counters forAccount(String accountId) {
    return forShard(shardIndex(accountId, numberOfShards));
  }

  public Counters forShard(int shard) {
    Counters c = shards.get(shard);
    if (c == null) {
      shards.compareAndSet(shard, null, new Counters(clock));
      c = shards.get(shard);
    }
    return c;
  }

  /** The shard's rates, or null when no account of it ever handled anything here. */
  public Counters peek(int shard) {
    return shard >= 0 && shard < numberOfShards ? shards.get(shard) : null;
  }
}
