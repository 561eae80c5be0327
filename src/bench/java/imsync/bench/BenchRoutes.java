package imsync.bench;

import akka.actor.CoordinatedShutdown;
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
 * a real sync reaches; and the Redis inbox peer's routes under {@code /bench/redis} when one is set up.
 */
public final class BenchRoutes extends HttpSupport {
  private static final Logger log = LoggerFactory.getLogger(BenchRoutes.class);
  private static final int MAX_CEILING_BYTES = 8 * 1024 * 1024;
  private final ConcurrentHashMap<Integer, ByteString> bodies = new ConcurrentHashMap<>();
  private final Optional<Route> peer;
  private final imsync.metrics.Metrics metrics;

  public BenchRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter, Optional<Route> peer) {
    this(auth, accounts, settings, limiter, peer, null);
  }

  BenchRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter, Optional<Route> peer,
              imsync.metrics.Metrics metrics) {
    super(auth, accounts, settings, limiter);
    this.peer = peer;
    this.metrics = metrics;
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
      return new BenchRoutes(auth, accounts, settings, limiter, peer, imsync.metrics.Metrics.get(system)).route();
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
    Route own = concat(ceiling, hook);
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
