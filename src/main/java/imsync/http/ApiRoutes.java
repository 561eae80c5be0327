package imsync.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.MalformedRequestContentRejection;
import akka.http.javadsl.server.MethodRejection;
import akka.http.javadsl.server.Rejection;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.javadsl.server.Route;
import akka.http.scaladsl.model.EntityStreamSizeException;
import imsync.Settings;
import imsync.cluster.ShardBalancer;
import imsync.metrics.Metrics;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole public API: every route class, plus the handlers that turn whatever goes wrong into the
 * contract's error shape. Nothing leaves as a 500: an unexpected exception is logged and answered 503.
 */
public final class ApiRoutes extends HttpSupport {
  private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);

  private final Route routes;
  private final StreamStats streamStats = new StreamStats();
  private final Metrics metrics;

  public ApiRoutes(ActorSystem<?> system, ActorRef<ShardBalancer.Command> balancer, Auth auth, Accounts accounts,
                   Settings settings, RateLimiter limiter, Route extra) {
    super(auth, accounts, settings, limiter);
    this.metrics = Metrics.get(system);
    metrics.streamsOpen(streamStats::open);
    this.routes = concat(
        new SyncRoutes(auth, accounts, settings, limiter).route(),
        new VerifyRoutes(auth, accounts, settings, limiter).route(),
        new InfoRoutes(auth, accounts, settings, limiter).route(),
        new IngestRoutes(auth, accounts, settings, limiter, IngestDispatcher.fromConfig(system, accounts, metrics)).route(),
        new SessionRoutes(auth, accounts, settings, limiter).route(),
        new GroupRoutes(auth, accounts, settings, limiter).route(),
        new DeviceRoutes(auth, accounts, settings, limiter).route(),
        new StreamRoutes(system, auth, accounts, settings, limiter, streamStats).route(),
        new AdminRoutes(system, balancer, auth, accounts, settings, limiter, streamStats).route(),
        new OpenApiRoutes().route(),
        new ConsoleRoutes().route(),
        extra);
  }

  public Route route() {
    return measured(() -> withRequestTimeoutResponse(req -> unavailable(), () ->
        handleExceptions(exceptions(), () -> handleRejections(rejections(), () -> routes))));
  }

  /**
   * The one metrics hook: every answer's time by route template, method and status, and the refusals
   * (429, 503, 413). The template lookup walks the parsed path in place and the timers are cached, so a
   * request costs a clock read at each end and a few atomic adds.
   */
  private Route measured(Supplier<Route> inner) {
    return extractRequest(req -> {
      if (!metrics.httpHook()) return inner.get();
      long start = System.nanoTime();
      int route = RouteTemplates.indexOf(((akka.http.scaladsl.model.HttpRequest) req).uri().path());
      String method = req.method().value();
      return mapResponse(resp -> {
        metrics.httpRequest(route, method, resp.status().intValue(), System.nanoTime() - start,
            resp.getAttribute(LONG_POLL).isPresent());
        return resp;
      }, inner);
    });
  }

  private ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .match(ApiException.class, e -> complete(ApiErrors.of(e)))
        .match(EntityStreamSizeException.class, e -> complete(payloadTooLarge()))
        .matchAny(e -> {
          if (isTooLarge(e)) return complete(payloadTooLarge());
          log.error("unexpected failure while handling a request", e);
          return complete(unavailable());
        })
        .build();
  }

  private RejectionHandler rejections() {
    return RejectionHandler.newBuilder()
        .handleAll(MethodRejection.class, rs -> extractRequest(req ->
            complete(ApiErrors.notFound("no route for " + req.method().value() + " " + req.getUri().path()))))
        .handle(MalformedRequestContentRejection.class, r -> complete(isTooLarge(r.getCause())
            ? payloadTooLarge()
            : ApiErrors.response(StatusCodes.BAD_REQUEST, "invalid_json", r.message())))
        .handle(Rejection.class, r -> complete(ApiErrors.response(StatusCodes.BAD_REQUEST, "invalid_request", r.toString())))
        .handleNotFound(extractRequest(req ->
            complete(ApiErrors.notFound("no route for " + req.method().value() + " " + req.getUri().path()))))
        .build();
  }
}
