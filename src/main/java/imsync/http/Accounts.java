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
    return ask(accountId, command, Duration.ZERO);
  }

  /** {@code extra}: time the account may legitimately hold the request (a long poll's wait). */
  public CompletionStage<AccountEntity.Reply> ask(String accountId,
                                                  Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command,
                                                  Duration extra) {
    return sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId).ask(command::apply, timeout.plus(extra));
  }

  /** An ask that gives up after {@code within}, or the node's ask timeout when that is sooner. */
  public CompletionStage<AccountEntity.Reply> askWithin(String accountId,
                                                        Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command,
                                                        Duration within) {
    Duration t = within.compareTo(timeout) < 0 ? within : timeout;
    return sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId).ask(command::apply, t);
  }

  /** Fire and forget (stream acknowledgements). */
  public void tell(String accountId, AccountEntity.Command command) {
    sharding.entityRefFor(AccountEntity.TYPE_KEY, accountId).tell(command);
  }
}
