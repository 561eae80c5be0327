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
import imsync.audit.AuditLog;
import imsync.json.JsonOut;
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
 * API v1.2: an account's export and erasure, and the audit log, where every write here (and every export)
 * is recorded once it succeeded; a write whose record could not be stored answers 503.
 */
public final class AdminRoutes extends HttpSupport {
  private final ActorSystem<?> system;
  private final ActorRef<ShardBalancer.Command> balancer;
  private final int numberOfShards;

  private final StreamStats streamStats;
  private final NodeStatsClient nodes;
  private final SessionHistory history;
  private final AuditLog audit;
  private final java.time.Duration erasureTimeout;

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
    this.audit = new AuditLog(system);
    this.erasureTimeout = system.settings().config().getDuration("imsync.erasure.ask-timeout");
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
            post(() -> memberAction(p, raw, action))),
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
        path("audit", () -> get(() -> parameterOptional("after", after -> parameterOptional("limit", limitText -> {
          long from = auditAfter(after);
          int limit = limitText.isPresent() ? pageLimit(limitText) : 100;
          return completeWithFuture(audit.after(from, limit).handleAsync((page, failure) ->
              failure != null ? storageUnavailable("the audit log", failure) : ok(JsonOut.write(o -> auditPage(page, o))), IN_PLACE));
        })))),
        path(PathMatchers.segment("accounts").slash(PathMatchers.segment()).slash("export"), raw -> get(() -> {
          String id = Json.id(raw, Json.ACCOUNT_ID, "account_id");
          return completeWithFuture(exportAccount(id, 1).thenComposeAsync(result -> {
            if (!(result instanceof ExportDocument doc)) return java.util.concurrent.CompletableFuture.completedFuture(result);
            // no export leaves without its audit record
            return audit.record(p.subject(), "account.export", id, null).thenApplyAsync(d -> (Object) doc, IN_PLACE);
          }, IN_PLACE).handleAsync((result, failure) -> failure != null
              ? storageUnavailable("export of " + id, failure)
              : result instanceof ExportDocument doc ? ok(JsonOut.write(o -> export(id, doc, o))) : mapReply((AccountEntity.Reply) result),
              IN_PLACE));
        })),
        path(PathMatchers.segment("accounts").slash(PathMatchers.segment()), raw -> delete(() -> {
          String id = Json.id(raw, Json.ACCOUNT_ID, "account_id");
          return completeWithFuture(accounts.ask(id, AccountEntity.Erase::new, erasureTimeout).thenComposeAsync(reply -> {
            if (!(reply instanceof AccountEntity.Erased erased)) return java.util.concurrent.CompletableFuture.completedFuture(reply);
            return audit.record(p.subject(), "account.erase", id, "events=" + erased.events())
                .thenApplyAsync(d -> (AccountEntity.Reply) erased, IN_PLACE);
          }, IN_PLACE).handleAsync((reply, failure) -> {
            if (failure != null) return storageUnavailable("erasure of " + id, failure);
            if (reply instanceof AccountEntity.Erased e) {
              return ok(JsonOut.write(o -> o.startObject().field("erased", id).field("events", e.events()).endObject()));
            }
            return mapReply(reply);
          }, IN_PLACE));
        })),
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
              .thenComposeAsync(done -> audit.record(p.subject(), "shard.move", shard, "to=" + to), IN_PLACE)
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
          CompletionStage<Integer> recorded = moved.thenComposeAsync(n -> n < 0 ? java.util.concurrent.CompletableFuture.completedFuture(n)
              : audit.record(p.subject(), "cluster.rebalance", "by=" + by, "moved=" + n).thenApplyAsync(d -> n, IN_PLACE), IN_PLACE);
          return completeWithFuture(recorded.handleAsync((n, failure) -> {
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
  private Route memberAction(Auth.Principal p, String raw, String action) {
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
    if (action.equals("down") && !cluster.state().getUnreachable().contains(member)) {
      return complete(ApiErrors.response(StatusCodes.CONFLICT, "conflict",
          address + " is reachable: down is for unreachable members; use leave"));
    }
    Address target = address;
    // recorded first: a node told to leave may be this one, and it may stop before a later write
    CompletionStage<HttpResponse> done = audit.record(p.subject(), "member." + action, target.toString(), null).handleAsync((d, failure) -> {
      if (failure != null) return storageUnavailable("audit record of member " + action, failure);
      if (action.equals("leave")) cluster.manager().tell(Leave.create(target));
      else cluster.manager().tell(new Down(target));
      ObjectNode n = JsonViews.object();
      n.put("address", target.toString());
      n.put("action", action);
      return ok(n).withStatus(StatusCodes.ACCEPTED);
    }, IN_PLACE);
    return completeWithFuture(done);
  }

  // ------------------------------------------------------------ data lifecycle (API v1.2)

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AdminRoutes.class);

  /** Storage trouble (or an account that did not answer): 503 with Retry-After, never a 500. */
  private HttpResponse storageUnavailable(String what, Throwable failure) {
    log.warn("{} failed: {}", what, failure.toString());
    return ApiErrors.unavailable(what + " could not be completed right now; retry", settings.retryAfterSeconds());
  }

  /** A reply that is not the one asked for: the account's rejection or storage trouble. */
  private HttpResponse mapReply(AccountEntity.Reply reply) {
    if (reply instanceof AccountEntity.Rejected rej) return ApiErrors.of(rej.code(), rej.message());
    if (reply instanceof AccountEntity.StorageUnavailable u) return ApiErrors.unavailable(u.message(), settings.retryAfterSeconds());
    return unavailable();
  }

  /** {@code after}: epoch ms, a non-negative integer; absent: from the beginning. */
  private static long auditAfter(java.util.Optional<String> text) {
    if (text.isEmpty()) return 0;
    try {
      long v = Long.parseLong(text.get());
      if (v >= 0) return v;
    } catch (NumberFormatException ignored) {
      // falls through to the error
    }
    throw ApiException.invalid("after must be a non-negative integer (epoch milliseconds)");
  }

  private static void auditPage(AuditLog.Page page, JsonOut o) {
    o.startObject().startArray("entries");
    for (AuditLog.Entry e : page.entries()) {
      o.startObject().field("ts", e.ts());
      if (e.operator() == null) o.nullField("operator");
      else o.field("operator", e.operator());
      o.field("action", e.action()).field("target", e.target());
      if (e.detail() == null) o.nullField("detail");
      else o.field("detail", e.detail());
      o.endObject();
    }
    o.endArray().field("next", page.next()).field("has_more", page.hasMore()).endObject();
  }

  /** The whole account, assembled from its export pages, all at one incarnation and version. */
  private record ExportDocument(AccountEntity.ExportPageReply head, List<imsync.core.Session> sessions,
                                List<AccountEntity.RemovedSession> removed) {}

  /** Tries of a consistent export: an account that changes during each of them answers 503 (retry). */
  private static final int EXPORT_ATTEMPTS = 3;

  /** An {@link ExportDocument}, or the account's reply that is not a page (a rejection, storage trouble). */
  private CompletionStage<Object> exportAccount(String id, int attempt) {
    return accounts.ask(id, r -> new AccountEntity.ExportPage(0, 0, 0, r)).thenComposeAsync(reply -> {
      if (!(reply instanceof AccountEntity.ExportPageReply head)) return java.util.concurrent.CompletableFuture.completedFuture((Object) reply);
      List<imsync.core.Session> sessions = new java.util.ArrayList<>(head.sessions());
      List<AccountEntity.RemovedSession> removed = new java.util.ArrayList<>(head.removedSessions());
      return restOfExport(id, head, head.next(), sessions, removed).thenComposeAsync(whole -> {
        if (whole) return java.util.concurrent.CompletableFuture.completedFuture((Object) new ExportDocument(head, sessions, removed));
        if (attempt >= EXPORT_ATTEMPTS) {
          return java.util.concurrent.CompletableFuture.<Object>failedFuture(new IllegalStateException("the account kept changing"));
        }
        return exportAccount(id, attempt + 1);
      }, IN_PLACE);
    }, IN_PLACE);
  }

  /** Reads the pages from {@code offset}; false when the account changed meanwhile. */
  private CompletionStage<Boolean> restOfExport(String id, AccountEntity.ExportPageReply head, int offset,
                                                List<imsync.core.Session> sessions, List<AccountEntity.RemovedSession> removed) {
    if (offset < 0) return java.util.concurrent.CompletableFuture.completedFuture(true);
    return accounts.ask(id, r -> new AccountEntity.ExportPage(head.incarnation(), head.version(), offset, r)).thenComposeAsync(reply -> {
      if (!(reply instanceof AccountEntity.ExportPageReply page)) throw new IllegalStateException("export page: " + reply);
      if (page.incarnation() != head.incarnation() || page.version() != head.version()) {
        return java.util.concurrent.CompletableFuture.completedFuture(false);
      }
      sessions.addAll(page.sessions());
      removed.addAll(page.removedSessions());
      return restOfExport(id, head, page.next(), sessions, removed);
    }, IN_PLACE);
  }

  /** The export document: v1 object shapes, sessions whole (drafts included). */
  private static void export(String id, ExportDocument doc, JsonOut o) {
    AccountEntity.ExportPageReply e = doc.head();
    o.startObject().field("account_id", id).field("version", e.version());
    o.startArray("groups");
    for (imsync.core.Group g : e.groups()) o.group(g);
    o.endArray().startArray("sessions");
    for (imsync.core.Session s : doc.sessions()) o.session(s);
    o.endArray().startArray("removed_sessions");
    for (AccountEntity.RemovedSession r : doc.removed()) {
      o.startObject().field("session_id", r.sessionId()).field("removed_at", r.removedAt()).endObject();
    }
    o.endArray().startArray("devices");
    for (imsync.core.Device d : e.devices()) {
      o.startObject().field("device_id", d.deviceId()).field("first_seen_at", d.firstSeenAt()).field("last_seen_at", d.lastSeenAt())
          .field("acked_version", d.ackedVersion()).field("behind", Math.max(0, e.version() - d.ackedVersion())).endObject();
    }
    o.endArray().endObject();
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
