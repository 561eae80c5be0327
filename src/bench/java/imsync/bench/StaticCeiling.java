package imsync.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The plain static ceiling: Akka HTTP (the node's version, its default settings, routing DSL) answering
 * every request with the same N bytes of JSON, in a JVM of its own started with the node's JVM flags. What
 * "the HTTP stack can do" on this machine, with no token, body parse or account behind the answer.
 *
 * <p>{@code StaticCeiling PORT BYTES}
 */
public final class StaticCeiling {
  private StaticCeiling() {}

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    int bytes = Integer.parseInt(args[1]);
    // not application.conf: that is the imsync node's (cluster, persistence); this is plain Akka HTTP
    var config = ConfigFactory.parseString("akka.actor.provider = local\nakka.loglevel = WARNING\n"
        + "akka.coordinated-shutdown.exit-jvm = on").withFallback(ConfigFactory.defaultReference()).resolve();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "static-ceiling", config);
    HttpResponse answer = HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, filler(bytes)));
    Route route = Directives.complete(answer);
    Http.get(system).newServerAt("127.0.0.1", port).bind(route).whenComplete((binding, failure) -> {
      if (failure != null) {
        failure.printStackTrace();
        System.exit(1);
      }
      System.out.println("static ceiling: " + bytes + " bytes on http://127.0.0.1:" + port + "/");
    });
  }

  /** A JSON object of exactly {@code size} bytes ({@code size >= 16}): {"pad":"xxx…"}. */
  static byte[] filler(int size) {
    byte[] out = new byte[size];
    byte[] head = "{\"pad\":\"".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(head, 0, out, 0, head.length);
    Arrays.fill(out, head.length, size - 2, (byte) 'x');
    out[size - 2] = '"';
    out[size - 1] = '}';
    return out;
  }
}
