package imsync.testkit;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.ServerBinding;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import imsync.Main;
import imsync.http.ExtraRoutes;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** One imsync node on the test Cassandra: HTTP on a free port, its own cluster of one. */
public final class TestNode implements AutoCloseable {
  public final ActorSystem<Void> system;
  public final int port;

  private TestNode(ActorSystem<Void> system, int port) {
    this.system = system;
    this.port = port;
  }

  public static TestNode start() {
    return start("");
  }

  public static TestNode start(String extraConfig) {
    return start(extraConfig, ExtraRoutes.NONE);
  }

  /** A node that also mounts {@code extra} routes (the benchmark's). */
  public static TestNode start(String extraConfig, ExtraRoutes extra) {
    TestNode node = startUnready(extraConfig, extra);
    try {
      node.awaitReady();
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
    return node;
  }

  /** Starts without waiting for accounts to answer (for tests of a node that cannot answer). */
  public static TestNode startUnready(String extraConfig) {
    return startUnready(extraConfig, ExtraRoutes.NONE);
  }

  private static TestNode startUnready(String extraConfig, ExtraRoutes extra) {
    Config config = ConfigFactory.parseString(extraConfig)
        .withFallback(ConfigFactory.parseString(String.join("\n",
            "imsync.http.port = 0",
            "imsync.auth.secret = \"" + TestSettings.SECRET + "\"",
            "imsync.management.enabled = false",
            "imsync.cassandra.contact-point = \"" + LocalCassandra.contactPoint() + "\"",
            "akka.remote.artery.canonical.port = 0",
            "akka.coordinated-shutdown.exit-jvm = off",
            "akka.coordinated-shutdown.terminate-actor-system = on",
            "akka.http.server.preview.enable-http2 = off")))
        .withFallback(ConfigFactory.parseResources("application.conf"));
    config = ConfigFactory.load(config);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "imsync", config);
    try {
      ServerBinding binding = Main.init(system, extra).toCompletableFuture().get(60, TimeUnit.SECONDS);
      return new TestNode(system, binding.localAddress().getPort());
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("node did not start", e);
    }
  }

  /** Waits until an account answers: the first start creates the keyspaces and tables. */
  public void awaitReady() {
    Api api = api();
    String token = Api.deviceToken("warm-up", "test");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (api.get("/v1/groups", token).status() != 200) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("node never became ready");
    }
  }

  public Api api() {
    return new Api("http://127.0.0.1:" + port);
  }

  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(Duration.ofSeconds(30).toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("node did not stop", e);
    }
  }
}
