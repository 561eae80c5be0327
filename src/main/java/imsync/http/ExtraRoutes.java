package imsync.http;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import imsync.Settings;

/**
 * Routes a node mounts beside its API, built from the node's own auth, accounts, settings and rate
 * limiter, inside the API's error handling. Production mounts none; the benchmark's node mounts its
 * HTTP ceiling and Redis peer through this (they live in the benchmark's source set).
 */
@FunctionalInterface
public interface ExtraRoutes {
  ExtraRoutes NONE = (system, auth, accounts, settings, limiter) -> Directives.reject();

  Route create(ActorSystem<?> system, Auth auth, Accounts accounts, Settings settings, RateLimiter limiter);
}
