package imsync.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.persistence.testkit.JournalOperation;
import akka.persistence.testkit.PersistenceTestKitPlugin;
import akka.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import akka.persistence.testkit.ProcessingPolicy;
import akka.persistence.testkit.ProcessingResult;
import akka.persistence.testkit.ProcessingSuccess;
import akka.persistence.testkit.StorageFailure;
import akka.persistence.testkit.WriteEvents;
import akka.persistence.testkit.javadsl.PersistenceTestKit;
import com.typesafe.config.ConfigFactory;
import imsync.core.AccountEvent;
import imsync.core.IngestItem;
import imsync.core.Limits;
import imsync.testkit.TestSettings;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The wedge of issue 15: sharding sends its stop message once and then buffers every message for the account
 * until the actor terminates. An entity whose resting write (pending devices, {@code Passivated}) fails is
 * restarted by its persist-failure supervisor; it must still stop by itself, so the account answers again.
 * On the persistence test kit's journal (a failure is injected on the write of {@code Passivated}, every
 * time), with real Cluster Sharding and its idle passivation.
 */
class PassivationFailureTest {
  private static final ActorTestKit kit = ActorTestKit.create("passivation-failure", ConfigFactory.parseString(String.join("\n",
          "akka.actor.provider = cluster",
          "akka.remote.artery.canonical.hostname = 127.0.0.1",
          "akka.remote.artery.canonical.port = 0",
          "akka.cluster.jmx.multi-mbeans-in-same-jvm = on",
          "akka.cluster.sharding.passivation.strategy = default-strategy",
          "akka.cluster.sharding.passivation.default-strategy.idle-entity.timeout = 1s",
          "akka.loglevel = INFO"))
      .withFallback(PersistenceTestKitPlugin.getInstance().config())
      .withFallback(PersistenceTestKitSnapshotPlugin.config())
      .withFallback(ConfigFactory.parseResources("serialization.conf")));

  @AfterAll
  static void tearDown() {
    kit.shutdownTestKit();
  }

  /** Fails every write that holds {@code Passivated}; counts them. */
  static final class FailResting implements ProcessingPolicy<JournalOperation> {
    final AtomicInteger failed = new AtomicInteger();

    @Override
    public ProcessingResult tryProcess(String persistenceId, JournalOperation op) {
      if (op instanceof WriteEvents w) {
        for (Object e : scala.jdk.javaapi.CollectionConverters.asJava(w.batch())) {
          if (e instanceof AccountEvent.Passivated) {
            failed.incrementAndGet();
            return StorageFailure.create();
          }
        }
      }
      return ProcessingSuccess.getInstance();
    }
  }

  @Test
  void anEntityWhoseRestingWriteFailsStillStopsAndAnswersAgain() throws Exception {
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    FailResting policy = new FailResting();
    PersistenceTestKit.create(kit.system()).withPolicy(policy);
    ClusterSharding.get(kit.system()).init(AccountEntity.entity(kit.system(), TestSettings.of(Limits.defaults(), 100),
        new imsync.core.CursorCodec("c".getBytes())));

    var first = ask("carol", r -> new AccountEntity.Ingest(List.of(msg(1)), r));
    assertEquals(new AccountEntity.IngestReply(1, 0), first);

    // idle for a second: sharding stops the account, whose resting write fails
    kit.createTestProbe().awaitAssert(Duration.ofSeconds(20), () -> {
      assertTrue(policy.failed.get() >= 1, "the resting write was tried (and failed)");
      return null;
    });

    // the account answers (before the fix: every call timed out, forever) and lost nothing acknowledged
    var second = ask("carol", r -> new AccountEntity.Ingest(List.of(msg(2)), r));
    assertEquals(new AccountEntity.IngestReply(1, 0), second);
    var stats = assertInstanceOf(AccountEntity.StatsReply.class, ask("carol", AccountEntity.GetStats::new));
    assertEquals(2, stats.version(), "both acknowledged messages are there");

    // and it can be passivated again, and come back again
    int failedBefore = policy.failed.get();
    kit.createTestProbe().awaitAssert(Duration.ofSeconds(20), () -> {
      assertTrue(policy.failed.get() > failedBefore, "the second rest was tried too");
      return null;
    });
    var again = assertInstanceOf(AccountEntity.StatsReply.class, ask("carol", AccountEntity.GetStats::new));
    assertEquals(2, again.version());
  }

  private static IngestItem.Message msg(long seq) {
    return new IngestItem.Message("dm:dave", "direct", "Dave", seq, "dave", "hi " + seq, 1000 + seq, List.of());
  }

  private static AccountEntity.Reply ask(String account, Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command)
      throws Exception {
    return ClusterSharding.get(kit.system()).entityRefFor(AccountEntity.TYPE_KEY, account)
        .ask(command::apply, Duration.ofSeconds(8)).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
