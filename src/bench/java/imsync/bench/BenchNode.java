package imsync.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import imsync.Main;

/**
 * The benchmark's imsync node: {@link Main}'s node plus the {@code /bench} routes (HTTP ceiling, Redis
 * peer), configured by {@code imsync-bench.conf} over the packaged {@code application.conf}.
 */
public final class BenchNode {
  private BenchNode() {}

  public static Config config() {
    return ConfigFactory.load(ConfigFactory.parseResources("imsync-bench.conf")
        .withFallback(ConfigFactory.parseResources("application.conf")));
  }

  public static void main(String[] args) {
    Config config = config();
    ActorSystem.create(Behaviors.setup(ctx -> {
      Main.init(ctx.getSystem(), BenchRoutes.mounted(config.getConfig("imsync.bench")));
      return Behaviors.empty();
    }), "imsync", config);
  }
}
