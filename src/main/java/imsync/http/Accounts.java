package imsync.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import imsync.account.AccountEntity;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** Asks account entities through Cluster Sharding; wherever the account lives in the cluster. */
public final class Accounts {
  private final ClusterSharding sharding;
  private final Duration timeout;

  public Accounts(ActorSystem<?> system, Duration timeout) {
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
  }

  public CompletionStage<AccountEntity.Reply> ask(String accountId,
                                                  Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command) {
    return sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId).ask(command::apply, timeout);
  }
}
