package imsync;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.server.Route;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Binds the HTTP API and unbinds it early in coordinated shutdown, so in-flight requests still finish. */
public final class Server {
  private static final Logger log = LoggerFactory.getLogger(Server.class);

  private Server() {}

  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, Route route, String host, int port) {
    return Http.get(system).newServerAt(host, port).bind(route).whenComplete((binding, failure) -> {
      if (failure != null) {
        log.error("could not bind HTTP on {}:{}", host, port, failure);
        system.terminate();
      } else {
        binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
        log.info("imsync HTTP API listening on http://{}:{}/", binding.localAddress().getHostString(), binding.localAddress().getPort());
      }
    });
  }
}
