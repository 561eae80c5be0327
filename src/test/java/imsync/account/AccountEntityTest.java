package imsync.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import com.typesafe.config.ConfigFactory;
import imsync.core.AccountEvent;
import imsync.core.AccountState;
import imsync.core.Box;
import imsync.core.CursorCodec;
import imsync.core.ErrorCode;
import imsync.core.IngestItem;
import imsync.core.Limits;
import imsync.testkit.TestSettings;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The entity on an in-memory journal: commands become the right events and replies, every command, event
 * and reply survives serialization, snapshots (via the adapter) and replay give back the same state.
 */
class AccountEntityTest {
  private static final ActorTestKit kit = ActorTestKit.create(EventSourcedBehaviorTestKit.config()
      .withFallback(ConfigFactory.parseResources("serialization.conf"))
      .withFallback(ConfigFactory.parseString("akka.actor.provider = local")));

  private EventSourcedBehaviorTestKit<AccountEntity.Command, AccountEvent, AccountState> entity;

  @BeforeEach
  void setUp() {
    entity = EventSourcedBehaviorTestKit.create(kit.system(),
        AccountEntity.create("alice", TestSettings.of(Limits.defaults(), 5), new CursorCodec("c".getBytes())),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false));
  }

  @AfterAll
  static void tearDown() {
    kit.shutdownTestKit();
  }

  private static IngestItem.Message msg(String sid, long seq, String sender) {
    return new IngestItem.Message(sid, "direct", "Bob", seq, sender, "hi", 1000 + seq, List.of("alice"));
  }

  @Test
  void ingestPersistsOneEventPerAcceptedDeliveryAndCountsIgnored() {
    var result = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(
        List.of(msg("dm:bob", 1, "bob"), msg("dm:bob", 1, "bob"), msg("dm:bob", 2, "alice")), r));
    assertEquals(new AccountEntity.IngestReply(2, 1), result.reply());
    assertEquals(2, result.events().size());
    var m = (AccountEvent.MessageIngested) result.events().get(0);
    assertTrue(m.mentioned());
    assertFalse(m.own());
    assertTrue(((AccountEvent.MessageIngested) result.events().get(1)).own());
    assertEquals(0, result.state().session("dm:bob").unreadCount());
  }

  @Test
  void terminalActionsReplyWithTheObjectAfterTheChangeAndNoopsRaiseNoVersion() {
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("dm:bob", 3, "bob")), r));
    var read = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.MarkRead("dm:bob", 3, r));
    var s = assertInstanceOf(AccountEntity.SessionReply.class, read.reply());
    assertEquals(0, s.session().unreadCount());
    assertEquals(2, s.version());
    var again = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.MarkRead("dm:bob", 1, r));
    assertTrue(again.hasNoEvents());
    assertEquals(2, ((AccountEntity.SessionReply) again.reply()).version());
    var missing = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetMute("nope", 5, r));
    assertEquals(ErrorCode.NOT_FOUND, ((AccountEntity.Rejected) missing.reply()).code());
    var group = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.CreateGroup(null, "Work", r));
    assertEquals("folder-1", ((AccountEntity.GroupReply) group.reply()).group().groupId());
    var member = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.AddMember("folder-1", "dm:bob", r));
    var mr = assertInstanceOf(AccountEntity.MemberReply.class, member.reply());
    assertEquals(List.of("folder-1"), mr.session().groups());
    assertEquals(1, mr.group().sessionCount());
  }

  @Test
  void syncAnswersWithAnEncodedCursorAndRejectsForeignOnes() {
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("a", 1, "bob"), msg("b", 1, "bob")), r));
    var first = (AccountEntity.SyncReply) entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Sync(null, null, 1, "phone", r)).reply();
    assertTrue(first.hasMore());
    assertEquals(1, first.sessions().size());
    var second = (AccountEntity.SyncReply) entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Sync(first.cursor(), null, 1, "phone", r)).reply();
    assertFalse(second.hasMore());
    assertTrue(!second.sessions().get(0).sessionId().equals(first.sessions().get(0).sessionId()));
    var bad = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Sync("garbage", null, 10, "phone", r)).reply();
    assertEquals(ErrorCode.INVALID_CURSOR, ((AccountEntity.Rejected) bad).code());
    var unknown = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Sync(null, List.of("nope"), 10, "phone", r)).reply();
    assertEquals(ErrorCode.NOT_FOUND, ((AccountEntity.Rejected) unknown).code());
  }

  @Test
  void recoveryFromSnapshotAndEventsRebuildsTheSameState() {
    for (int i = 1; i <= 12; i++) {
      int seq = i;
      entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("s" + (seq % 4), seq, "bob")), r));
    }
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetBox("s1", Box.ARCHIVE, r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.CreateGroup("work", "Work", r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.AddMember("work", "s2", r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetPinned("work", List.of("s2"), r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.DeleteSession("s3", r));
    AccountState before = entity.getState();
    var restarted = entity.restart();
    assertTrue(restarted.state().sameAs(before));
  }

  @Test
  void snapshotsSerializeWithJacksonCbor() {
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("a", 1, "bob")), r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetDraft("a", "draft", r));
    new SerializationTestKit(kit.system()).verifySerialization(entity.getState().toSnapshot(), true);
  }
}
