package imsync.metrics;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import akka.cluster.sharding.ClusterSharding;
import akka.cluster.sharding.ShardRegion;
import akka.pattern.Patterns;
import imsync.CborSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One per node, registered with the Receptionist: answers what this node hosts and how busy it is (its shards
 * with their accounts in memory and decaying request/ingest rates, HTTP rate and p99, long polls, streams).
 * The admin routes ask every node's one. Also keeps the {@code imsync_shards} and {@code imsync_active_accounts}
 * gauges fresh from the shard region every few seconds.
 */
public final class NodeStats {
  private NodeStats() {}

  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "imsync-node-stats");

  public sealed interface Command extends CborSerializable {}

  public record Get(ActorRef<Stats> replyTo) implements Command {}

  private record Hosted(Map<String, Object> shards, ActorRef<Stats> replyTo) implements Command {}

  private enum Tick implements Command { INSTANCE }

  /** One hosted shard: accounts in memory, and its rates on this node over about the last minute. */
  public record ShardStats(String shardId, long activeAccounts, double requestsPerSecond, double ingestPerSecond) {}

  /**
   * A node's answer. {@code requestsPerSecond}/{@code ingestPerSecond}: summed over its shards (what its
   * accounts handled); {@code httpRequestsPerSecond} and {@code p99Ms}: what its HTTP front end answered
   * (p99 NaN without traffic). {@code shards} null when the shard region did not answer in time.
   */
  public record Stats(String address, List<ShardStats> shards, long activeAccounts, double requestsPerSecond,
                      double ingestPerSecond, double httpRequestsPerSecond, double p99Ms, long longPollsWaiting,
                      long streamsOpen) implements CborSerializable {}

  private static final Duration REGION_TIMEOUT = Duration.ofSeconds(2);

  /** {@code entityTypeName}: the sharded entity whose region this node's stats describe. */
  public static Behavior<Command> create(String entityTypeName) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofSeconds(5));
      Metrics metrics = Metrics.get(ctx.getSystem());
      String self = ctx.getSystem().address().toString();
      akka.actor.ActorRef region = ClusterSharding.get(ctx.getSystem().classicSystem()).shardRegion(entityTypeName);
      return Behaviors.receive(Command.class)
          .onMessage(Get.class, g -> {
            askRegion(ctx, region, g.replyTo());
            return Behaviors.same();
          })
          .onMessage(Tick.class, t -> {
            askRegion(ctx, region, null);
            return Behaviors.same();
          })
          .onMessage(Hosted.class, h -> {
            Stats stats = stats(self, h.shards(), metrics);
            if (h.shards() != null) metrics.hosted(h.shards().size(), stats.activeAccounts());
            if (h.replyTo() != null) h.replyTo().tell(stats);
            return Behaviors.same();
          })
          .build();
    }));
  }

  private static void askRegion(akka.actor.typed.javadsl.ActorContext<Command> ctx, akka.actor.ActorRef region,
                                ActorRef<Stats> replyTo) {
    ctx.pipeToSelf(Patterns.ask(region, ShardRegion.getRegionStatsInstance(), REGION_TIMEOUT), (answer, failure) ->
        new Hosted(answer instanceof ShardRegion.ShardRegionStats s ? s.getStats() : null, replyTo));
  }

  private static Stats stats(String self, Map<String, Object> hosted, Metrics metrics) {
    List<ShardStats> shards = null;
    long accounts = metrics.activeAccounts();
    double requests = 0;
    double ingest = 0;
    ShardLoad load = metrics.shardLoad();
    if (hosted != null) {
      shards = new ArrayList<>(hosted.size());
      accounts = 0;
      for (Map.Entry<String, Object> e : hosted.entrySet()) {
        long active = ((Number) e.getValue()).longValue();
        ShardLoad.Counters c = load.peek(parseShard(e.getKey()));
        double r = c == null ? 0 : c.requestsPerSecond();
        double i = c == null ? 0 : c.ingestPerSecond();
        shards.add(new ShardStats(e.getKey(), active, r, i));
        accounts += active;
        requests += r;
        ingest += i;
      }
    }
    return new Stats(self, shards, accounts, requests, ingest, metrics.httpRequestsPerSecond(), metrics.httpP99Millis(),
        metrics.longPollsWaiting(), metrics.streamsOpen());
  }

  private static int parseShard(String id) {
    try {
      return Integer.parseInt(id);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
