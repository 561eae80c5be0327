package imsync.http;

import akka.actor.Address;
import akka.actor.AddressFromURIString;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.ShardRegion;
import akka.cluster.sharding.external.ExternalShardAllocation;
import akka.cluster.sharding.typed.GetClusterShardingStats;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.cluster.ShardBalancer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Operators (operator scope): the cluster and its shards, one account's vital signs, moving a shard, and
 * rebalancing. Moves go through Akka's external shard allocation; the coordinator hands the shard off.
 */
public final class AdminRoutes extends HttpSupport {
  private final ActorSystem<?> system;
  private final ActorRef<ShardBalancer.Command> balancer;
  private final int numberOfShards;

  private final StreamStats streamStats;

  public AdminRoutes(ActorSystem<?> system, ActorRef<ShardBalancer.Command> balancer, Auth auth, Accounts accounts,
                     Settings settings, RateLimiter limiter, StreamStats streamStats) {
    super(auth, accounts, settings, limiter);
    this.system = system;
    this.streamStats = streamStats;
    this.balancer = balancer;
    this.numberOfShards = system.settings().config().getInt("akka.cluster.sharding.number-of-shards");
  }

  /** The shard an account lives in: Akka's default hash extractor. */
  public static String shardOf(String accountId, int numberOfShards) {
    return Integer.toString(Math.abs(accountId.hashCode() % numberOfShards));
  }

  public Route route() {
    return pathPrefix("admin", () -> authenticated(Auth.Scope.OPERATOR, p -> concat(
        path("cluster", () -> get(() -> completeWithFuture(clusterView()))),
        path(PathMatchers.segment("accounts").slash(PathMatchers.segment()), raw -> get(() -> {
          String id = Json.id(raw, Json.ACCOUNT_ID, "account_id");
          return askAccount(id, AccountEntity.GetStats::new, reply -> {
            var s = (AccountEntity.StatsReply) reply;
            ObjectNode n = JsonViews.object();
            n.put("account_id", id);
            n.put("version", s.version());
            n.put("sessions", s.sessions());
            n.put("groups", s.groups());
            n.put("devices", s.devices());
            n.put("removed_sessions", s.removedSessions());
            n.put("events_since_snapshot", s.eventsSinceSnapshot());
            n.put("shard_id", shardOf(id, numberOfShards));
            n.put("node", s.node());
            return n;
          });
        })),
        path(PathMatchers.segment("shards").slash(PathMatchers.segment()).slash("move"), shard -> post(() -> jsonBody(false, body -> {
          int index;
          try {
            index = Integer.parseInt(shard);
          } catch (NumberFormatException e) {
            index = -1;
          }
          if (index < 0 || index >= numberOfShards || !shard.equals(Integer.toString(index))) {
            return complete(ApiErrors.notFound("shard \"" + shard + "\" does not exist (0.." + (numberOfShards - 1) + ")"));
          }
          Address to = upMember(Json.requireString(body, "to"));
          CompletionStage<HttpResponse> moved = ExternalShardAllocation.get(system).getClient(AccountEntity.TYPE_KEY.name())
              .setShardLocation(shard, to)
              .handleAsync((done, failure) -> {
                if (failure != null) return unavailable();
                ObjectNode n = JsonViews.object();
                n.put("shard_id", shard);
                n.put("to", to.toString());
                return ok(n);
              }, IN_PLACE);
          return completeWithFuture(moved);
        }))),
        path("rebalance", () -> post(() -> completeWithFuture(
            AskPattern.<ShardBalancer.Command, Integer>ask(balancer, ShardBalancer.Rebalance::new, settings.askTimeout(), system.scheduler())
                .handleAsync((moved, failure) -> {
                  if (failure != null || moved < 0) return unavailable();
                  ObjectNode n = JsonViews.object();
                  n.put("moved", moved);
                  return ok(n);
                }, IN_PLACE)))))));
  }

  private Address upMember(String text) {
    Address address;
    try {
      address = AddressFromURIString.parse(text);
    } catch (Exception e) { // Scala throws MalformedURLException without declaring it
      throw ApiException.invalid("to must be a member address such as akka://imsync@10.0.0.1:25520");
    }
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (m.address().equals(address) && m.status() == MemberStatus.up()) return address;
    }
    throw ApiException.invalid("to: " + text + " is not an up member of the cluster");
  }

  private CompletionStage<HttpResponse> clusterView() {
    CompletionStage<ShardRegion.ClusterShardingStats> stats = AskPattern.ask(ClusterSharding.get(system).shardState(),
        (ActorRef<ShardRegion.ClusterShardingStats> r) -> new GetClusterShardingStats(AccountEntity.TYPE_KEY, Duration.ofSeconds(3), r),
        Duration.ofSeconds(5), system.scheduler());
    CompletionStage<Map<String, Integer>> planned = ExternalShardAllocation.get(system).getClient(AccountEntity.TYPE_KEY.name())
        .getShardLocations().thenApplyAsync(locations -> {
          Map<String, Integer> perMember = new java.util.HashMap<>();
          locations.getShardLocations().values().forEach(l -> perMember.merge(l.address().toString(), 1, Integer::sum));
          return perMember;
        }, IN_PLACE);
    return stats.thenCombineAsync(planned, (s, plan) -> render(s, plan), IN_PLACE)
        .handleAsync((view, failure) -> failure == null ? view : unavailable(), IN_PLACE);
  }

  private HttpResponse render(ShardRegion.ClusterShardingStats s, Map<String, Integer> planned) {
    {
      Cluster cluster = Cluster.get(system);
      ObjectNode n = JsonViews.object();
      n.put("self", cluster.selfMember().address().toString());
      Address leader = cluster.state().getLeader();
      if (leader == null) n.putNull("leader");
      else n.put("leader", leader.toString());
      n.put("number_of_shards", numberOfShards);
      // this node's WebSocket streams: open now, and cut off for not reading
      ObjectNode streams = n.putObject("streams");
      streams.put("open", streamStats.open());
      streams.put("slow_clients_closed", streamStats.slowClientsClosed());
      var arr = n.putArray("members");
      for (Member m : cluster.state().getMembers()) {
        ObjectNode o = arr.addObject();
        o.put("address", m.address().toString());
        o.put("status", m.status().toString().toLowerCase());
        o.put("reachable", !cluster.state().getUnreachable().contains(m));
        JsonViews.strings(o.putArray("roles"), m.getRoles());
        ShardRegion.ShardRegionStats region = s.getRegions().get(m.address());
        int shards = 0;
        long active = 0;
        if (region != null) {
          for (Map.Entry<String, Object> e : region.getStats().entrySet()) {
            shards++;
            active += ((Number) e.getValue()).longValue();
          }
        }
        // shards: hosted now (started by traffic); planned_shards: where the balancer or an operator put them
        o.put("shards", shards);
        o.put("planned_shards", planned.getOrDefault(m.address().toString(), 0));
        o.put("active_accounts", active);
      }
      return ok(n);
    }
  }
}
