package imsync.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import akka.actor.ActorRef;
import akka.actor.typed.javadsl.Adapter;
import akka.persistence.AtomicWrite;
import akka.persistence.JournalProtocol;
import akka.persistence.Persistence;
import akka.persistence.PersistentRepr;
import akka.testkit.javadsl.TestKit;
import com.typesafe.config.ConfigFactory;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import scala.jdk.javaapi.CollectionConverters;

/**
 * {@link FastRecoveryJournal} answers every highest-sequence-number read as the plugin's own journal does,
 * on the test Cassandra, with partitions of 5 events so the cases its one round trip must hand back to the
 * plugin's search come up: a new id, events in one partition, a full partition, events past a partition
 * boundary, an atomic write across one, and deletes (some, and all).
 */
@ExtendWith(LocalCassandra.class)
class FastRecoveryJournalTest {
  private static final Duration T = Duration.ofSeconds(60);
  private static final String STOCK = "stock-cassandra.journal";
  private static TestNode node;
  private static akka.actor.ActorSystem classic;
  private static final String RUN = "frj-" + System.currentTimeMillis() + "-";

  @BeforeAll
  static void start() {
    node = TestNode.start(String.join("\n",
        "akka.persistence.cassandra.journal.target-partition-size = 5",
        // the plugin's own journal on the same tables, for comparison
        "stock-cassandra = ${akka.persistence.cassandra}",
        "stock-cassandra.journal.class = \"akka.persistence.cassandra.journal.CassandraJournal\"",
        "stock-cassandra.imsync-session-name = \"stock\""));
    classic = Adapter.toClassic(node.system);
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
  }

  private static ActorRef fast() {
    return Persistence.get(classic).journalFor("akka.persistence.cassandra.journal", ConfigFactory.empty());
  }

  private static ActorRef stock() {
    return Persistence.get(classic).journalFor(STOCK, ConfigFactory.empty());
  }

  /** Writes events {@code from..to} of {@code pid} as one atomic write. */
  private static void write(String pid, long from, long to) {
    TestKit probe = new TestKit(classic);
    List<PersistentRepr> events = new ArrayList<>();
    for (long s = from; s <= to; s++) {
      events.add(PersistentRepr.apply("e" + s, s, pid, "", false, ActorRef.noSender(), "writer-" + RUN));
    }
    AtomicWrite write = AtomicWrite.apply(CollectionConverters.asScala(events).toList());
    fast().tell(new JournalProtocol.WriteMessages(CollectionConverters.asScala(List.<akka.persistence.PersistentEnvelope>of(write)).toList(), probe.getRef(), 1),
        probe.getRef());
    probe.expectMsgClass(T, JournalProtocol.WriteMessagesSuccessful$.class);
  }

  private static void deleteTo(String pid, long to) {
    TestKit probe = new TestKit(classic);
    fast().tell(new JournalProtocol.DeleteMessagesTo(pid, to, probe.getRef()), probe.getRef());
    probe.expectMsgClass(T, akka.persistence.DeleteMessagesSuccess.class);
  }

  /** The highest sequence number a recovery from {@code fromSequenceNr} (a snapshot's) learns. */
  private static long highest(ActorRef journal, String pid, long fromSequenceNr) {
    TestKit probe = new TestKit(classic);
    // toSequenceNr 0: no replay, only the highest sequence number (as a recovery with nothing to replay)
    journal.tell(new JournalProtocol.ReplayMessages(fromSequenceNr + 1, 0L, 0L, pid, probe.getRef()), probe.getRef());
    Object reply = probe.receiveOne(T);
    return assertInstanceOf(JournalProtocol.RecoverySuccess.class, reply, String.valueOf(reply)).highestSequenceNr();
  }

  private static void sameAsPlugin(String pid, long fromSequenceNr, long expected) {
    long plugin = highest(stock(), pid, fromSequenceNr);
    long ours = highest(fast(), pid, fromSequenceNr);
    assertEquals(expected, plugin, "the plugin's journal, " + pid + " from " + fromSequenceNr);
    assertEquals(plugin, ours, "the fast journal against the plugin's, " + pid + " from " + fromSequenceNr);
  }

  @Test
  void highestSequenceNumberIsThePluginsInEveryCase() {
    String fresh = RUN + "new-" + UUID.randomUUID();
    sameAsPlugin(fresh, 0, 0);

    String three = RUN + "three";
    write(three, 1, 1);
    write(three, 2, 3);
    for (long from : new long[] {0, 1, 3}) sameAsPlugin(three, from, 3);

    String full = RUN + "full"; // partition 0 holds 1..5, all taken
    write(full, 1, 5);
    for (long from : new long[] {0, 5}) sameAsPlugin(full, from, 5);

    String past = RUN + "past"; // 1..5 in partition 0, 6..7 in partition 1
    write(past, 1, 5);
    write(past, 6, 6);
    write(past, 7, 7);
    for (long from : new long[] {0, 4, 5, 6, 7}) sameAsPlugin(past, from, 7);

    String across = RUN + "across"; // 4..8 is one atomic write stored in partition 0, past its end
    write(across, 1, 3);
    write(across, 4, 8);
    for (long from : new long[] {0, 3, 8}) sameAsPlugin(across, from, 8);

    String someDeleted = RUN + "some-deleted";
    write(someDeleted, 1, 4);
    deleteTo(someDeleted, 2);
    for (long from : new long[] {0, 2, 4}) sameAsPlugin(someDeleted, from, 4);

    String allDeleted = RUN + "all-deleted";
    write(allDeleted, 1, 3);
    deleteTo(allDeleted, 3);
    for (long from : new long[] {0, 3}) sameAsPlugin(allDeleted, from, 3);

    String deletedPastPartition = RUN + "deleted-past-partition";
    write(deletedPastPartition, 1, 5);
    write(deletedPastPartition, 6, 8);
    deleteTo(deletedPastPartition, 6);
    for (long from : new long[] {0, 6}) sameAsPlugin(deletedPastPartition, from, 8);
  }
}
