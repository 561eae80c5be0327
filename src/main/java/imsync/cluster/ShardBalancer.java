package imsync.cluster;

import akka.actor.Address;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.ShardRegion;
import akka.cluster.sharding.external.ExternalShardAllocation;
import akka.cluster.sharding.external.javadsl.ExternalShardAllocationClient;
import akka.cluster.sharding.typed.GetClusterShardingStats;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.SingletonActor;
import akka.cluster.typed.Subscribe;
import imsync.CborSerializable;
import imsync.account.AccountEntity;
import imsync.http.HttpSupport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.StreamSupport;

/**
 * Keeps the account shards spread evenly over the up members, through Akka's external shard allocation
 * (the coordinator moves shards to the locations written there, handing them off gracefully). Runs as a
 * cluster singleton: on membership changes (settled for a moment) and on the operators' rebalance call.
 */
public final class ShardBalancer {
  private ShardBalancer() {}

  public sealed interface Command extends CborSerializable {}

  /** Balance now; replies with the number of shards moved. */
  public record Rebalance(ActorRef<Integer> replyTo) implements Command {}

  /**
   * Balance load now: {@code load} is requests plus ingest deliveries per second by shard id (shards not
   * listed count as idle); replies with the number of shards moved.
   */
  public record RebalanceByLoad(Map<String, Double> load, ActorRef<Integer> replyTo) implements Command {}

  private enum MembershipChanged implements Command { INSTANCE }

  private record Planned(int moved, ActorRef<Integer> replyTo) implements Command {}

  public static ActorRef<Command> init(ActorSystem<?> system, int numberOfShards) {
    return ClusterSingleton.get(system).init(SingletonActor.of(
        Behaviors.supervise(create(numberOfShards)).onFailure(SupervisorStrategy.restart()), "shard-balancer"));
  }

  static Behavior<Command> create(int numberOfShards) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ActorRef<ClusterEvent.MemberEvent> adapter = ctx.messageAdapter(ClusterEvent.MemberEvent.class, e -> MembershipChanged.INSTANCE);
      Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(adapter, ClusterEvent.MemberEvent.class));
      ExternalShardAllocationClient client = ExternalShardAllocation.get(ctx.getSystem()).getClient(AccountEntity.TYPE_KEY.name());
      List<String> shards = new ArrayList<>(numberOfShards);
      for (int i = 0; i < numberOfShards; i++) shards.add(Integer.toString(i));
      return Behaviors.receive(Command.class)
          // wait for membership to settle: a rolling start should not move shards once per node, and the
          // coordinator must have let go of a removed node's shards before we plan them elsewhere
          .onMessage(MembershipChanged.class, m -> {
            timers.startSingleTimer("settle", new Rebalance(ctx.getSystem().ignoreRef()), Duration.ofSeconds(6));
            return Behaviors.same();
          })
          .onMessage(Rebalance.class, r -> {
            ctx.pipeToSelf(plan(ctx.getSystem(), client, shards, null), (moved, failure) ->
                new Planned(failure == null ? moved : -1, r.replyTo()));
            return Behaviors.same();
          })
          .onMessage(RebalanceByLoad.class, r -> {
            ctx.pipeToSelf(plan(ctx.getSystem(), client, shards, r.load()), (moved, failure) ->
                new Planned(failure == null ? moved : -1, r.replyTo()));
            return Behaviors.same();
          })
          .onMessage(Planned.class, p -> {
            if (p.moved() > 0) ctx.getLog().info("shard balancer moved {} shards", p.moved());
            p.replyTo().tell(p.moved());
            return Behaviors.same();
          })
          .build();
    }));
  }

  /**
   * {@code load} null: even out shard counts ({@link ShardPlan}); else even out load ({@link LoadPlan}).
   * A shard whose stored location is no longer an up member counts where it runs now: after a node is
   * removed, the coordinator starts its shards on the survivors, and planning from the dead node's old
   * entries would move those shards a second time.
   */
  private static CompletionStage<Integer> plan(ActorSystem<?> system, ExternalShardAllocationClient client, List<String> shards,
                                               Map<String, Double> load) {
    List<Address> up = new ArrayList<>();
    var state = Cluster.get(system).state();
    for (Member m : StreamSupport.stream(state.getMembers().spliterator(), false).toList()) {
      if (m.status() == MemberStatus.up() && !state.getUnreachable().contains(m)) up.add(m.address());
    }
    up.sort(Comparator.comparing(Address::toString));
    CompletionStage<Map<String, Address>> running = accountShardStats(system, STATS_TIMEOUT)
        .handleAsync((stats, failure) -> failure == null ? runningAt(stats) : Map.<String, Address>of(), HttpSupport.IN_PLACE);
    // no view of the regions (failure above): plan from the stored locations alone
    return client.getShardLocations().thenCombineAsync(running, (locations, now) -> {
      Map<String, Address> stored = new HashMap<>();
      locations.getShardLocations().forEach((shard, loc) -> stored.put(shard, loc.address()));
      Map<String, Address> current = ShardPlan.homes(stored, now, up);
      Map<String, Address> moves = load == null
          ? ShardPlan.balance(shards, up, current)
          : LoadPlan.balance(shards, up, current, load, LoadPlan.TOLERANCE);
      Map<String, Address> writes = ShardPlan.writes(shards, stored, current, moves);
      return new Plan(moves.size(), writes);
    }, HttpSupport.IN_PLACE).thenComposeAsync(plan -> {
      if (plan.writes().isEmpty()) return CompletableFuture.completedFuture(plan.moved());
      return client.setShardLocations(plan.writes()).thenApplyAsync(done -> plan.moved(), HttpSupport.IN_PLACE);
    }, HttpSupport.IN_PLACE);
  }

  /** {@code moved}: shards that change home; {@code writes}: the locations to store (moves and corrections). */
  private record Plan(int moved, Map<String, Address> writes) {}

  private static final Duration STATS_TIMEOUT = Duration.ofSeconds(3);

  /** Every region's account shards and their entity counts; regions that do not answer within {@code timeout} are left out. */
  public static CompletionStage<ShardRegion.ClusterShardingStats> accountShardStats(ActorSystem<?> system, Duration timeout) {
    return AskPattern.ask(ClusterSharding.get(system).shardState(),
        (ActorRef<ShardRegion.ClusterShardingStats> r) -> new GetClusterShardingStats(AccountEntity.TYPE_KEY, timeout, r),
        timeout.plusSeconds(2), system.scheduler());
  }

  /** Shard id to the member it runs on, for every shard running somewhere (regions that did not answer: none). */
  static Map<String, Address> runningAt(ShardRegion.ClusterShardingStats stats) {
    Map<String, Address> at = new HashMap<>();
    stats.getRegions().forEach((address, region) -> region.getStats().keySet().forEach(shard -> at.put(shard, address)));
    return at;
  }
}
