package imsync;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.http.javadsl.ServerBinding;
import akka.management.javadsl.AkkaManagement;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import imsync.account.AccountEntity;
import imsync.http.Accounts;
import imsync.http.ApiRoutes;
import imsync.http.Auth;
import imsync.http.RateLimiter;
import java.util.concurrent.CompletionStage;

/** Starts one imsync node: {@code Main} runs it; {@code Main token ...} prints a signed token for development. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("token")) {
      printToken(args);
      return;
    }
    Config config = ConfigFactory.load();
    ActorSystem.create(Behaviors.setup(ctx -> {
      init(ctx.getSystem());
      return Behaviors.empty();
    }), "imsync", config);
  }

  /** Everything a node runs, on a given actor system: tests call this with their own config. */
  public static CompletionStage<ServerBinding> init(ActorSystem<?> system) {
    Settings settings = Settings.from(system.settings().config());
    Config imsync = system.settings().config().getConfig("imsync");
    if (imsync.getBoolean("cluster.join-self")) {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    if (imsync.getBoolean("management.enabled")) AkkaManagement.get(system).start();
    AccountEntity.init(system, settings);
    Auth auth = new Auth(settings.authSecret());
    Accounts accounts = new Accounts(system, settings.askTimeout());
    return Server.start(system, new ApiRoutes(system, auth, accounts, settings,
        new RateLimiter(settings.ratePerSecond(), settings.rateBurst(), 1_000_000)).route(), settings.httpHost(), settings.httpPort());
  }

  /** {@code token <device|service|operator> [account] [device] [ttl-seconds]} with the configured secret. */
  private static void printToken(String[] args) {
    Settings settings = Settings.from(ConfigFactory.load());
    String scope = args.length > 1 ? args[1] : "device";
    String sub = args.length > 2 ? args[2] : null;
    String dev = args.length > 3 ? args[3] : null;
    long ttl = args.length > 4 ? Long.parseLong(args[4]) : 24 * 3600;
    System.out.println(new Auth(settings.authSecret()).issue(scope, sub, dev, System.currentTimeMillis() / 1000 + ttl));
  }
}
