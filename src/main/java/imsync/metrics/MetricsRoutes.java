package imsync.metrics;

import akka.actor.ExtendedActorSystem;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.management.javadsl.ManagementRouteProvider;
import akka.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics} on the Akka Management port (no token, like the port's own endpoints: it is internal),
 * Prometheus text from the node's registry. Mounted through {@code akka.management.http.routes}.
 */
public final class MetricsRoutes extends AllDirectives implements ManagementRouteProvider {
  private final Metrics metrics;

  public MetricsRoutes(ExtendedActorSystem system) {
    this.metrics = Metrics.get(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return path("metrics", () -> get(() -> extractRequest(req -> complete(HttpResponse.create()
        .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.scrape()))))));
  }
}
