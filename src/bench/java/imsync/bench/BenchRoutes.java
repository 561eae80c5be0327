package imsync.bench;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Route;
import akka.util.ByteString;
import com.typesafe.config.Config;
import imsync.Settings;
import imsync.http.Accounts;
import imsync.http.ApiException;
import imsync.http.Auth;
import imsync.http.ExtraRoutes;
import imsync.http.HttpSupport;
import imsync.http.RateLimiter;
import imsync.http.SyncRoutes;
import imsync.peer.PeerRoutes;
import imsync.peer.RedisInbox;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Benchmark-only routes, mounted by the benchmark's node ({@link BenchNode}) through {@link ExtraRoutes}:
 * {@code POST /bench/ceiling?bytes=N}
 * does what every sync does in the front end (bearer token, rate limit, JSON body) and answers a
 * precomputed body of N bytes, so "sync req/s ÷ ceiling req/s" is the share of the node's HTTP capacity
 * a real sync reaches; {@code POST /bench/ask-ceiling?bytes=N} the same front end (the sync route's own
 * body parse) plus an ask through Cluster Sharding to a trivial in-memory entity of the account, which
 * answers at once, so "sync ÷ ask ceiling" is the share left once the sharded ask is paid; and the Redis
 * inbox peer's routes under {@code /bench/redis} when one is set up.
 */
public final class BenchRoutes extends HttpSupport {
  private static final Logger log = LoggerFactory.getLogger(BenchRoutes.class);
  private static final int MAX_CEILING_BYTES = 8 * 1024 * 1024;
  private final ConcurrentHashMap<Integer, ByteString> bodies = new ConcurrentHashMap<>();
  private final Optional<Route> peer;
  private final imsync.metrics.Metrics metrics;
  private final ClusterSharding sharding;

  /** The ask ceiling's entity: answers every ask at once, keeps nothing. */
  record Echo(ActorRef<Done> replyTo) {}

  static final EntityTypeKey<Echo> ECHO = EntityTypeKey.create(Echo.class, "BenchEcho");

  public BenchRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter, Optional<Route> peer) {
    this(auth, accounts, settings, limiter, peer, null, null);
  }

  BenchRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter, Optional<Route> peer,
              imsync.metrics.Metrics metrics, ClusterSharding sharding) {
    super(auth, accounts, settings, limiter);
    this.peer = peer;
    this.metrics = metrics;
    this.sharding = sharding;
  }

  /** The ceiling, plus the Redis peer when {@code bench.redis.port} is set ({@code imsync.bench} of the bench config). */
  public static ExtraRoutes mounted(Config bench) {
    return (system, auth, accounts, settings, limiter) -> {
      Optional<Route> peer = Optional.empty();
      if (bench.getInt("redis.port") > 0) {
        RedisInbox inbox = new RedisInbox(bench.getString("redis.host"), bench.getInt("redis.port"), bench.getInt("redis.pool-size"));
        // closed after the HTTP port is unbound and in-flight requests are answered
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "close-redis-peer", () -> {
          inbox.close();
          return CompletableFuture.completedFuture(akka.Done.getInstance());
        });
        peer = Optional.of(new PeerRoutes(auth, accounts, settings, limiter, inbox).route());
      }
      log.warn("benchmark routes are on (/bench): a benchmark node, never production");
      ClusterSharding sharding = ClusterSharding.get(system);
      sharding.init(Entity.of(ECHO, ctx -> Behaviors.receive(Echo.class).onMessage(Echo.class, m -> {
        m.replyTo().tell(Done.getInstance());
        return Behaviors.same();
      }).build()));
      return new BenchRoutes(auth, accounts, settings, limiter, peer, imsync.metrics.Metrics.get(system), sharding).route();
    };
  }

  public Route route() {
    Route ceiling = path(akka.http.javadsl.server.PathMatchers.segment("bench").slash("ceiling"), () -> post(() ->
        authenticated(Auth.Scope.DEVICE, p -> jsonBody(true, body -> parameterOptional("bytes", bytes -> {
          int size = parseSize(bytes);
          return complete(HttpResponse.create().withStatus(StatusCodes.OK)
              .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, bodies.computeIfAbsent(size, n -> ByteString.fromArrayUnsafe(StaticCeiling.filler(n))))));
        })))));
    // POST /bench/metrics-hook?on=false|true: the benchmark's metrics-on/off rounds
    Route hook = path(akka.http.javadsl.server.PathMatchers.segment("bench").slash("metrics-hook"), () -> post(() ->
        parameter("on", on -> {
          if (metrics == null) return complete(StatusCodes.NOT_FOUND);
          metrics.setHttpHook(Boolean.parseBoolean(on));
          return complete(HttpResponse.create().withStatus(StatusCodes.OK)
              .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, "{\"http_hook\":" + metrics.httpHook() + "}")));
        })));
    Route askCeiling = path(akka.http.javadsl.server.PathMatchers.segment("bench").slash("ask-ceiling"), () -> post(() ->
        authenticated(Auth.Scope.DEVICE, p -> bodyBytes(body -> parameterOptional("bytes", bytes -> {
          SyncRoutes.SyncRequest.parse(body);
          if (sharding == null) return complete(StatusCodes.NOT_FOUND);
          ByteString answer = bodies.computeIfAbsent(parseSize(bytes), n -> ByteString.fromArrayUnsafe(StaticCeiling.filler(n)));
          return completeWithFuture(sharding.entityRefFor(ECHO, p.accountId()).<Done>ask(Echo::new, settings.askTimeout())
              .thenApplyAsync(done -> HttpResponse.create().withStatus(StatusCodes.OK)
                  .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, answer)), IN_PLACE));
        })))));
    Route own = concat(ceiling, askCeiling, hook);
    return peer.map(r -> concat(own, r)).orElse(own);
  }

  private static int parseSize(Optional<String> text) {
    try {
      int n = Integer.parseInt(text.orElse("1024"));
      if (n >= 16 && n <= MAX_CEILING_BYTES) return n;
    } catch (NumberFormatException ignored) {
      // falls through to the error
    }
    throw ApiException.invalid("bytes must be an integer between 16 and " + MAX_CEILING_BYTES);
  }

}
