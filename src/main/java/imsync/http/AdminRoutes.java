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
import akka.cluster.typed.Cluster;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.cluster.ShardBalancer;
import imsync.metrics.NodeStats;
import imsync.metrics.ShardLoad;
import akka.cluster.typed.Down;
import akka.cluster.typed.Leave;
import akka.http.javadsl.model.StatusCodes;
import java.util.HashMap;
import java.util.List;
import java.util.TreeMap;
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
  private final NodeStatsClient nodes;
  private final SessionHistory history;

  public AdminRoutes(ActorSystem<?> system, ActorRef<ShardBalancer.Command> balancer, Auth auth, Accounts accounts,
                     Settings settings, RateLimiter limiter, StreamStats streamStats) {
    super(auth, accounts, settings, limiter);
    this.system = system;
    this.streamStats = streamStats;
    this.balancer = balancer;
    this.numberOfShards = system.settings().config().getInt("akka.cluster.sharding.number-of-shards");
    this.nodes = new NodeStatsClient(system);
    this.history = new SessionHistory(system, accounts, system.settings().config().getInt("imsync.admin.history-scan-rows"),
        this::unavailable);
  }

  /** The shard an account lives in: Akka's default hash extractor. */
  public static String shardOf(String accountId, int numberOfShards) {
    return Integer.toString(ShardLoad.shardIndex(accountId, numberOfShards));
  }

  public Route route() {
    return pathPrefix("admin", () -> authenticated(Auth.Scope.OPERATOR, p -> concat(
        path("cluster", () -> get(() -> completeWithFuture(clusterView()))),
        path("shards", () -> get(() -> completeWithFuture(nodes.gather().thenApplyAsync(this::shardsView, IN_PLACE)))),
        path("metrics", () -> get(() -> completeWithFuture(nodes.gather().thenApplyAsync(this::metricsView, IN_PLACE)))),
        path(PathMatchers.segment("members").slash(PathMatchers.segment()).slash(PathMatchers.segment()), (raw, action) ->
            post(() -> memberAction(raw, action))),
        path(PathMatchers.segment("accounts").slash(PathMatchers.segment()).slash("devices"), raw -> get(() -> {
          String id = Json.id(raw, Json.ACCOUNT_ID, "account_id");
          return askAccount(id, AccountEntity.GetDevices::new, reply -> DeviceRoutes.render((AccountEntity.DevicesReply) reply));
        })),
        path(PathMatchers.segment("accounts").slash(PathMatchers.segment()).slash("sessions").slash(PathMatchers.segment())
            .slash("history"), (raw, rawSid) -> get(() -> parameterOptional("limit", limitText -> {
          String id = Json.id(raw, Json.ACCOUNT_ID, "account_id");
          String sid = sessionId(rawSid);
          int limit = pageLimit(limitText);
          return completeWithFuture(history.of(id, sid, limit));
        }))),
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
        path("rebalance", () -> post(() -> jsonBody(true, body -> {
          String by = Json.present(body, "by") ? Json.requireString(body, "by") : "count";
          if (!by.equals("count") && !by.equals("load")) throw ApiException.invalid("by must be \"count\" or \"load\"");
          CompletionStage<Integer> moved = by.equals("count")
              ? AskPattern.ask(balancer, ShardBalancer.Rebalance::new, settings.askTimeout(), system.scheduler())
              : nodes.gather().thenComposeAsync(stats -> AskPattern.<ShardBalancer.Command, Integer>ask(balancer,
                  r -> new ShardBalancer.RebalanceByLoad(shardLoad(stats), r), settings.askTimeout(), system.scheduler()), IN_PLACE);
          return completeWithFuture(moved.handleAsync((n, failure) -> {
            if (failure != null || n < 0) return unavailable();
            ObjectNode o = JsonViews.object();
            o.put("moved", n);
            o.put("by", by);
            return ok(o);
          }, IN_PLACE));
        }))))));
  }

  /** Requests plus ingest deliveries per second by shard id, from every node that answered. */
  private static Map<String, Double> shardLoad(Map<String, NodeStats.Stats> stats) {
    Map<String, Double> load = new HashMap<>();
    for (NodeStats.Stats s : stats.values()) {
      if (s.shards() == null) continue;
      for (NodeStats.ShardStats sh : s.shards()) load.merge(sh.shardId(), sh.requestsPerSecond() + sh.ingestPerSecond(), Double::sum);
    }
    return load;
  }

  /** Leave (graceful: shards hand off, the node shuts down) or down (an unreachable member) one member. */
  private Route memberAction(String raw, String action) {
    if (!action.equals("leave") && !action.equals("down")) {
      return complete(ApiErrors.notFound("no route for POST /admin/members/{address}/" + action));
    }
    Address address;
    try {
      address = AddressFromURIString.parse(raw);
    } catch (Exception e) { // Scala throws MalformedURLException without declaring it
      address = null;
    }
    if (address == null || address.host().isEmpty() || address.port().isEmpty()) {
      throw ApiException.invalid("address must be a member address such as akka://imsync@10.0.0.1:25520 (URL-encoded in the path)");
    }
    Cluster cluster = Cluster.get(system);
    Member member = null;
    for (Member m : cluster.state().getMembers()) {
      if (m.address().equals(address)) member = m;
    }
    if (member == null) return complete(ApiErrors.notFound("no member " + address + " in the cluster"));
    if (action.equals("leave")) {
      cluster.manager().tell(Leave.create(address));
    } else {
      if (!cluster.state().getUnreachable().contains(member)) {
        return complete(ApiErrors.response(StatusCodes.CONFLICT, "conflict",
            address + " is reachable: down is for unreachable members; use leave"));
      }
      cluster.manager().tell(new Down(address));
    }
    ObjectNode n = JsonViews.object();
    n.put("address", address.toString());
    n.put("action", action);
    return complete(ok(n).withStatus(StatusCodes.ACCEPTED));
  }

  /** Every hosted shard (once, sorted by id) and every member with its totals; a silent node shows as such. */
  private HttpResponse shardsView(Map<String, NodeStats.Stats> stats) {
    Map<Integer, ObjectNode> shards = new TreeMap<>();
    for (NodeStats.Stats s : stats.values()) {
      if (s.shards() == null) continue;
      for (NodeStats.ShardStats sh : s.shards()) {
        int index;
        try {
          index = Integer.parseInt(sh.shardId());
        } catch (NumberFormatException e) {
          continue;
        }
        ObjectNode seen = shards.get(index);
        // during a hand-off two nodes may both report it: the one with its accounts wins
        if (seen != null && seen.get("active_accounts").asLong() >= sh.activeAccounts()) continue;
        ObjectNode o = JsonViews.object();
        o.put("shard_id", sh.shardId());
        o.put("node", s.address());
        o.put("active_accounts", sh.activeAccounts());
        o.put("requests_per_second", round(sh.requestsPerSecond()));
        o.put("ingest_per_second", round(sh.ingestPerSecond()));
        shards.put(index, o);
      }
    }
    ObjectNode n = JsonViews.object();
    var arr = n.putArray("shards");
    shards.values().forEach(arr::add);
    var members = n.putArray("members");
    for (Member m : Cluster.get(system).state().getMembers()) {
      ObjectNode o = memberHeader(members.addObject(), m);
      NodeStats.Stats s = stats.get(m.address().toString());
      o.put("answered", s != null && s.shards() != null);
      if (s != null && s.shards() != null) {
        o.put("shards", s.shards().size());
        o.put("active_accounts", s.activeAccounts());
        o.put("requests_per_second", round(s.requestsPerSecond()));
        o.put("ingest_per_second", round(s.ingestPerSecond()));
      } else {
        o.putNull("shards");
        o.putNull("active_accounts");
        o.putNull("requests_per_second");
        o.putNull("ingest_per_second");
      }
    }
    return ok(n);
  }

  /** Each member's live figures from its own registry (HTTP rate and p99, ingest, accounts, polls, streams). */
  private HttpResponse metricsView(Map<String, NodeStats.Stats> stats) {
    ObjectNode n = JsonViews.object();
    n.put("at", System.currentTimeMillis());
    var members = n.putArray("members");
    for (Member m : Cluster.get(system).state().getMembers()) {
      ObjectNode o = memberHeader(members.addObject(), m);
      NodeStats.Stats s = stats.get(m.address().toString());
      o.put("answered", s != null);
      if (s != null) {
        o.put("requests_per_second", round(s.httpRequestsPerSecond()));
        if (Double.isNaN(s.p99Ms())) o.putNull("p99_ms");
        else o.put("p99_ms", round(s.p99Ms()));
        o.put("ingest_per_second", round(s.ingestPerSecond()));
        o.put("active_accounts", s.activeAccounts());
        o.put("long_polls_waiting", s.longPollsWaiting());
        o.put("streams_open", s.streamsOpen());
      } else {
        for (String f : List.of("requests_per_second", "p99_ms", "ingest_per_second", "active_accounts", "long_polls_waiting",
            "streams_open")) {
          o.putNull(f);
        }
      }
    }
    return ok(n);
  }

  private ObjectNode memberHeader(ObjectNode o, Member m) {
    o.put("address", m.address().toString());
    o.put("status", m.status().toString().toLowerCase());
    o.put("reachable", !Cluster.get(system).state().getUnreachable().contains(m));
    return o;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
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
    CompletionStage<ShardRegion.ClusterShardingStats> stats = ShardBalancer.accountShardStats(system, Duration.ofSeconds(3));
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
