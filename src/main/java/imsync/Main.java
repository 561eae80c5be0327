package imsync;

import akka.actor.Address;
import akka.actor.AddressFromURIString;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.cluster.typed.JoinSeedNodes;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.http.javadsl.ServerBinding;
import akka.management.javadsl.AkkaManagement;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import akka.actor.typed.Props;
import imsync.account.AccountEntity;
import imsync.metrics.NodeStats;
import imsync.cluster.ShardBalancer;
import imsync.http.Accounts;
import imsync.http.ApiRoutes;
import imsync.http.Auth;
import imsync.http.ExtraRoutes;
import imsync.http.RateLimiter;
import java.util.ArrayList;
import java.util.List;
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
    return init(system, ExtraRoutes.NONE);
  }

  /** A node that also mounts {@code extra} routes beside its API (the benchmark's node). */
  public static CompletionStage<ServerBinding> init(ActorSystem<?> system, ExtraRoutes extra) {
    AuthSettings authSettings = AuthSettings.from(system.settings().config()); // first: a node without keys never starts
    Settings settings = Settings.from(system.settings().config());
    Config imsync = system.settings().config().getConfig("imsync");
    if (imsync.getBoolean("management.enabled")) AkkaManagement.get(system).start();
    joinCluster(system, imsync);
    AccountEntity.init(system, settings);
    system.systemActorOf(NodeStats.create(AccountEntity.TYPE_KEY.name()), "node-stats", Props.empty());
    ActorRef<ShardBalancer.Command> balancer =
        ShardBalancer.init(system, system.settings().config().getInt("akka.cluster.sharding.number-of-shards"));
    Auth auth = Auth.create(authSettings);
    system.getWhenTerminated().thenRun(auth::close);
    Accounts accounts = new Accounts(system, settings.askTimeout());
    RateLimiter limiter = new RateLimiter(settings.ratePerSecond(), settings.rateBurst(), 1_000_000);
    return Server.start(system, new ApiRoutes(system, balancer, auth, accounts, settings, limiter,
        extra.create(system, auth, accounts, settings, limiter)).route(), settings.httpHost(), settings.httpPort());
  }

  /**
   * Seed nodes when given (local multi-node runs: {@code imsync.cluster.seed-nodes}, comma separated),
   * else a cluster of one (development), else Akka Management Cluster Bootstrap (production).
   */
  private static void joinCluster(ActorSystem<?> system, Config imsync) {
    Cluster cluster = Cluster.get(system);
    List<Address> seeds = new ArrayList<>();
    for (String s : imsync.getString("cluster.seed-nodes").split(",")) {
      if (!s.isBlank()) seeds.add(AddressFromURIString.parse(s.trim()));
    }
    if (!seeds.isEmpty()) cluster.manager().tell(new JoinSeedNodes(seeds));
    else if (imsync.getBoolean("cluster.join-self")) cluster.manager().tell(Join.create(cluster.selfMember().address()));
    else ClusterBootstrap.get(system).start();
  }

  /** {@code token <device|service|operator> [account] [device] [ttl-seconds]} with the configured secret. */
  private static void printToken(String[] args) {
    Settings settings = Settings.from(ConfigFactory.load());
    if (settings.authSecret().length == 0) {
      System.err.println("token: needs an HS256 secret (imsync.auth.secret, env IMSYNC_AUTH_SECRET)");
      System.exit(2);
    }
    String scope = args.length > 1 ? args[1] : "device";
    String sub = args.length > 2 ? args[2] : null;
    String dev = args.length > 3 ? args[3] : null;
    long ttl = args.length > 4 ? Long.parseLong(args[4]) : 24 * 3600;
    System.out.println(new Auth(settings.authSecret()).issue(scope, sub, dev, System.currentTimeMillis() / 1000 + ttl));
  }
}
