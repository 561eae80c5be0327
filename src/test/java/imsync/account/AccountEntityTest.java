package imsync.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
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
import java.time.Duration;
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
  void ingestStoresItsAcceptedDeliveriesAsOneJournalRowAndCountsIgnored() {
    var result = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(
        List.of(msg("dm:bob", 1, "bob"), msg("dm:bob", 1, "bob"), msg("dm:bob", 2, "alice")), r));
    assertEquals(new AccountEntity.IngestReply(2, 1), result.reply());
    assertEquals(1, result.events().size(), "one row for the whole call");
    var batch = (AccountEvent.Batch) result.events().get(0);
    assertEquals(2, batch.events().size());
    var m = (AccountEvent.MessageIngested) batch.events().get(0);
    assertTrue(m.mentioned());
    assertFalse(m.own());
    assertTrue(((AccountEvent.MessageIngested) batch.events().get(1)).own());
    assertEquals(0, result.state().session("dm:bob").unreadCount());
    assertEquals(2, result.state().version(), "each change of the batch takes its own version");
    var single = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("dm:bob", 3, "bob")), r));
    assertInstanceOf(AccountEvent.MessageIngested.class, single.event(), "a single change is stored as itself");
    var bulk = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.CreateGroup("work", "Work", null, r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("dm:carol", 1, "carol")), r));
    var added = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.AddMembers("work", List.of("dm:bob", "dm:carol"), r));
    assertEquals(2, ((AccountEntity.MembersAddedReply) added.reply()).added());
    assertEquals(2, ((AccountEvent.Batch) added.event()).events().size());
    assertEquals(2, ((AccountEntity.MembersAddedReply) added.reply()).group().sessionCount());
    assertTrue(bulk.reply() instanceof AccountEntity.GroupReply);
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
    var group = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.CreateGroup(null, "Work", null, r));
    assertEquals("folder-1", ((AccountEntity.GroupReply) group.reply()).group().groupId());
    var member = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.AddMember("folder-1", "dm:bob", r));
    var mr = assertInstanceOf(AccountEntity.MemberReply.class, member.reply());
    assertEquals(List.of("folder-1"), mr.session().groups());
    assertEquals(1, mr.group().sessionCount());
  }

  @Test
  void syncAnswersWithAnEncodedCursorAndRejectsForeignOnes() {
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("a", 1, "bob"), msg("b", 1, "bob")), r));
    var first = (AccountEntity.SyncReply) entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Sync(null, null, 1, 0, 0, "phone", r)).reply();
    assertTrue(first.hasMore());
    assertEquals(1, first.sessions().size());
    var second = (AccountEntity.SyncReply) entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Sync(first.cursor(), null, 1, 0, 0, "phone", r)).reply();
    assertFalse(second.hasMore());
    assertTrue(!second.sessions().get(0).sessionId().equals(first.sessions().get(0).sessionId()));
    var bad = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Sync("garbage", null, 10, 0, 0, "phone", r)).reply();
    assertEquals(ErrorCode.INVALID_CURSOR, ((AccountEntity.Rejected) bad).code());
    var unknown = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Sync(null, List.of("nope"), 10, 0, 0, "phone", r)).reply();
    assertEquals(ErrorCode.NOT_FOUND, ((AccountEntity.Rejected) unknown).code());
  }

  @Test
  void recoveryFromSnapshotAndEventsRebuildsTheSameState() {
    for (int i = 1; i <= 12; i++) {
      int seq = i;
      entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("s" + (seq % 4), seq, "bob")), r));
    }
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetBox("s1", Box.ARCHIVE, r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.CreateGroup("work", "Work", null, r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.AddMember("work", "s2", r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetPinned("work", List.of("s2"), r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.DeleteSession("s3", r));
    // batches: an ingest of several deliveries and a bulk add, each one journal row
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("b1", 1, "bob"), msg("b2", 1, "bob"), msg("s0", 20, "bob")), r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.AddMembers("work", List.of("b1", "b2", "s0"), r));
    AccountState before = entity.getState();
    assertEquals(4, before.group("work").sessionCount());
    var restarted = entity.restart();
    assertEquals(before.version(), restarted.state().version());
    assertEquals(4, restarted.state().group("work").sessionCount());
    assertTrue(restarted.state().sameAs(before));
  }

  @Test
  void aBatchSurvivesTheJournalsSerializerUnchanged() throws Exception {
    var batch = new AccountEvent.Batch(List.of(
        new AccountEvent.MessageIngested("a", "direct", "A", 1, "bob", "hi", 1000, false, true),
        new AccountEvent.MemberAdded("work", "a", 1001)));
    var serialization = akka.serialization.SerializationExtension.get(kit.system().classicSystem());
    var serializer = (akka.serialization.SerializerWithStringManifest) serialization.findSerializerFor(batch);
    byte[] bytes = serializer.toBinary(batch);
    Object back = serializer.fromBinary(bytes, serializer.manifest(batch));
    assertEquals(batch, back);
  }

  @Test
  void aFailedWriteRestartsTheEntityFromAnEmptyStateNotFromWhatItHeld() {
    // Akka reuses the empty state object when it restarts an entity after a failed write: a mutable
    // state must not be that object, else the replay lands on top of the old state (versions doubled).
    var journal = akka.persistence.testkit.javadsl.PersistenceTestKit.create(kit.system());
    ActorRef<AccountEntity.Command> ref = spawn("restarts-" + System.nanoTime());
    ask(ref, r -> new AccountEntity.Ingest(List.of(msg("a", 1, "bob"), msg("b", 1, "bob")), r), AccountEntity.IngestReply.class);
    journal.failNextPersisted();
    TestProbe<AccountEntity.Reply> failed = kit.createTestProbe();
    ref.tell(new AccountEntity.Ingest(List.of(msg("c", 1, "bob")), failed.ref()));
    failed.expectNoMessage(java.time.Duration.ofMillis(300)); // the write failed: no reply, the entity restarts
    var after = ask(ref, r -> new AccountEntity.Ingest(List.of(msg("c", 1, "bob")), r), AccountEntity.IngestReply.class);
    assertEquals(1, after.accepted(), "the failed delivery was not stored, so it is accepted now");
    var stats = ask(ref, AccountEntity.GetStats::new, AccountEntity.StatsReply.class);
    assertEquals(3, stats.version(), "three changes, each counted once");
    assertEquals(3, stats.sessions());
    assertTrue(AccountState.template(Limits.defaults()).isTemplate());
    org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> AccountState.template(Limits.defaults()).apply(new AccountEvent.MarkedUnread("a", 1)));
  }

  /** The entity as sharding runs it (stop message included), on the in-memory journal. */
  private static ActorRef<AccountEntity.Command> spawn(String accountId) {
    return kit.spawn(AccountEntity.create(accountId, TestSettings.of(Limits.defaults(), 100), new CursorCodec("c".getBytes())));
  }

  private static <T extends AccountEntity.Reply> T ask(ActorRef<AccountEntity.Command> ref,
                                                      java.util.function.Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> f,
                                                      Class<T> type) {
    TestProbe<AccountEntity.Reply> probe = kit.createTestProbe();
    ref.tell(f.apply(probe.ref()));
    return probe.expectMessageClass(type, Duration.ofSeconds(5));
  }

  @Test
  void longPollIsAnsweredByTheNextChangeOrWhenTheEntityStops() {
    var ref = spawn("long-poller");
    ask(ref, r -> new AccountEntity.Ingest(List.of(msg("a", 1, "bob")), r), AccountEntity.IngestReply.class);
    var first = ask(ref, r -> new AccountEntity.Sync(null, null, 10, 0, 0, "phone", r), AccountEntity.SyncReply.class);
    TestProbe<AccountEntity.Reply> waiting = kit.createTestProbe();
    ref.tell(new AccountEntity.Sync(first.cursor(), null, 10, 0, 30_000, "phone", waiting.ref()));
    waiting.expectNoMessage(Duration.ofMillis(100));
    ask(ref, r -> new AccountEntity.MarkUnread("a", r), AccountEntity.SessionReply.class);
    var woken = waiting.expectMessageClass(AccountEntity.SyncReply.class, Duration.ofSeconds(3));
    assertEquals("a", woken.sessions().get(0).sessionId());

    TestProbe<AccountEntity.Reply> parked = kit.createTestProbe();
    ref.tell(new AccountEntity.Sync(woken.cursor(), null, 10, 0, 30_000, "phone", parked.ref()));
    ask(ref, AccountEntity.GetGroups::new, AccountEntity.GroupsReply.class); // the poll is parked now
    ref.tell(AccountEntity.Stop.INSTANCE);
    var answered = parked.expectMessageClass(AccountEntity.SyncReply.class, Duration.ofSeconds(3));
    assertTrue(answered.sessions().isEmpty());
    assertFalse(answered.hasMore());
  }

  @Test
  void deviceProgressIsKeptInMemoryAndStoredOnStop() {
    var sync = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("a", 1, "bob")), r));
    var first = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Sync(null, null, 10, 0, 0, "phone", r));
    assertTrue(first.hasNoEvents(), "a sync is not a journal write");
    assertTrue(sync.events().size() == 1);

    var ref = spawn("device-owner");
    ask(ref, r -> new AccountEntity.Ingest(List.of(msg("a", 1, "bob")), r), AccountEntity.IngestReply.class);
    var s1 = ask(ref, r -> new AccountEntity.Sync(null, null, 10, 0, 0, "phone", r), AccountEntity.SyncReply.class);
    ask(ref, r -> new AccountEntity.Sync(s1.cursor(), null, 10, 0, 0, "phone", r), AccountEntity.SyncReply.class);
    var devices = ask(ref, AccountEntity.GetDevices::new, AccountEntity.DevicesReply.class);
    assertEquals(1, devices.devices().size());
    assertEquals(1, devices.devices().get(0).ackedVersion());
    TestProbe<Object> watcher = kit.createTestProbe();
    ref.tell(AccountEntity.Stop.INSTANCE);
    watcher.expectTerminated(ref, Duration.ofSeconds(5));
    var again = spawn("device-owner");
    var recovered = ask(again, AccountEntity.GetDevices::new, AccountEntity.DevicesReply.class);
    assertEquals(devices.devices(), recovered.devices(), "stored on stop, recovered on start");
    assertEquals(1, recovered.version(), "device progress raises no version");
    assertEquals(ErrorCode.NOT_FOUND, ask(again, r -> new AccountEntity.RemoveDevice("tablet", r), AccountEntity.Rejected.class).code());
    ask(again, r -> new AccountEntity.RemoveDevice("phone", r), AccountEntity.DeviceRemovedReply.class);
    assertTrue(ask(again, AccountEntity.GetDevices::new, AccountEntity.DevicesReply.class).devices().isEmpty());
  }

  @Test
  void aDeviceSeenAgainIsStoredOnlyWhenItsAckChangesOrItsStoredSightingIsOld() {
    var stored = new imsync.core.Device("phone", 1_000, 1_000, 7);
    assertTrue(AccountEntity.worthStoring(null, stored), "a new device");
    assertTrue(AccountEntity.worthStoring(stored, new imsync.core.Device("phone", 1_000, 2_000, 8)), "a new acked version");
    assertTrue(AccountEntity.worthStoring(stored, new imsync.core.Device("phone", 1_000, 2_000, 6)), "behind again");
    assertFalse(AccountEntity.worthStoring(stored, new imsync.core.Device("phone", 1_000, 1_000 + AccountEntity.DEVICE_SEEN_PRECISION_MS - 1, 7)),
        "the same ack, seen again soon");
    assertTrue(AccountEntity.worthStoring(stored, new imsync.core.Device("phone", 1_000, 1_000 + AccountEntity.DEVICE_SEEN_PRECISION_MS, 7)),
        "the same ack, but the stored sighting is old");
  }

  @Test
  void snapshotsSerializeInTheCompactForm() {
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("a", 1, "bob")), r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.SetDraft("a", "draft", r));
    new SerializationTestKit(kit.system()).verifySerialization(entity.getState().toSnapshot(), true);
  }

  @Test
  void smartFoldersAndVerifySurviveSerializationSnapshotsAndReplay() {
    for (int i = 1; i <= 6; i++) {
      int seq = i;
      entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("s" + (seq % 3), seq, "bob")), r));
    }
    var unread = new imsync.core.SmartRule(true, null, null, null, null, null, null, List.of("s2"));
    var created = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.CreateGroup("unread", "Unread", unread, r));
    var group = ((AccountEntity.GroupReply) created.reply()).group();
    assertEquals("smart", group.kind());
    assertEquals(2, group.sessionCount());
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.MarkRead("s0", 100, r));
    var direct = new imsync.core.SmartRule(null, null, List.of("direct"), null, null, null, null, null);
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.PatchGroup("unread", "Direct", null, direct, r));
    var verified = entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Verify(null, new long[4], 1000, r));
    var v = (AccountEntity.VerifyReply) verified.reply();
    assertEquals(3, v.buckets().stream().mapToInt(b -> b.sessions().size()).sum(), "an empty copy differs in every bucket");
    AccountState before = entity.getState();
    assertEquals(3, before.group("unread").sessionCount());
    // the snapshot's serializer keeps the rules, not the derived membership: the state it loads is the same
    var back = (imsync.core.AccountSnapshot) new SerializationTestKit(kit.system()).verifySerialization(before.toSnapshot(), false);
    assertTrue(AccountState.fromSnapshot(back, before.limits()).sameAs(before));
    var restarted = entity.restart();
    assertTrue(restarted.state().sameAs(before));
    assertEquals(direct, restarted.state().group("unread").rule());
  }

  @Test
  void exportPagesStayWithinTheirBudgetAndStartOverWhenTheAccountChanges() {
    String preview = "x".repeat(500);
    List<IngestItem> items = new java.util.ArrayList<>();
    for (int i = 0; i < 400; i++) {
      items.add(new IngestItem.Message(String.format("s%03d", 399 - i), "direct", "T", 1, "bob", preview, 1000 + i, List.of()));
    }
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(items, r));
    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.DeleteSession("s000", r));

    var first = (AccountEntity.ExportPageReply) entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.ExportPage(0, 0, 0, r)).reply();
    assertEquals(401, first.version());
    assertEquals(2, first.groups().size(), "groups come with the first page");
    List<String> ids = new java.util.ArrayList<>();
    List<String> removed = new java.util.ArrayList<>();
    int pages = 0;
    var page = first;
    while (true) {
      pages++;
      int bytes = 0;
      for (var s : page.sessions()) bytes += imsync.json.SyncJson.SIZES.sessionBytes(s);
      assertTrue(bytes <= AccountEntity.EXPORT_PAGE_BYTES, "page " + pages + " within its budget: " + bytes);
      page.sessions().forEach(s -> ids.add(s.sessionId()));
      page.removedSessions().forEach(t -> removed.add(t.sessionId()));
      if (page.next() < 0) break;
      int next = page.next();
      page = (AccountEntity.ExportPageReply) entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.ExportPage(first.incarnation(),
          first.version(), next, r)).reply();
      assertTrue(page.groups().isEmpty());
    }
    assertTrue(pages >= 3, "a large account takes several pages: " + pages);
    assertEquals(399, ids.size());
    assertEquals(ids.stream().sorted().toList(), ids, "sessions by id, each once");
    assertEquals(List.of("s000"), removed, "then the tombstones");

    entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.Ingest(List.of(msg("dm:new", 1, "bob")), r));
    var stale = (AccountEntity.ExportPageReply) entity.<AccountEntity.Reply>runCommand(r -> new AccountEntity.ExportPage(first.incarnation(),
        first.version(), first.next(), r)).reply();
    assertEquals(402, stale.version(), "a page after a change says where the account is now");
    assertTrue(stale.sessions().isEmpty() && stale.next() < 0);
  }

  /** One command to a running entity (not the step-wise test kit: an erasure answers after its store calls). */
  private static AccountEntity.Reply ask(ActorRef<AccountEntity.Command> ref,
                                         java.util.function.Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command) {
    TestProbe<AccountEntity.Reply> probe = kit.createTestProbe();
    ref.tell(command.apply(probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  private static AccountEntity.ExportPageReply firstPage(ActorRef<AccountEntity.Command> ref) {
    return (AccountEntity.ExportPageReply) ask(ref, r -> new AccountEntity.ExportPage(0, 0, 0, r));
  }

  @Test
  void erasureStoresItsMarkerAndTheAccountStartsOverInANewIncarnation() {
    String id = "erase-" + System.nanoTime();
    var settings = TestSettings.of(Limits.defaults(), 100);
    var codec = new CursorCodec("c".getBytes());
    ActorRef<AccountEntity.Command> ref = kit.spawn(AccountEntity.create(id, settings, codec));
    ask(ref, r -> new AccountEntity.Ingest(List.of(msg("dm:bob", 1, "bob"), msg("dm:carol", 1, "carol")), r));
    ask(ref, r -> new AccountEntity.Ingest(List.of(msg("dm:dave", 1, "dave")), r));
    var cursor = ((AccountEntity.SyncReply) ask(ref, r -> new AccountEntity.Sync(null, null, 100, 0, 0, null, r))).cursor();
    assertEquals(new AccountEntity.Erased(2), ask(ref, AccountEntity.Erase::new), "two journal events erased");
    var empty = firstPage(ref);
    assertEquals(0, empty.version());
    assertEquals(3, empty.incarnation(), "the new incarnation is the marker's sequence number");
    assertTrue(empty.sessions().isEmpty());
    assertEquals(new AccountEntity.Erased(0), ask(ref, AccountEntity.Erase::new), "already erased");
    assertEquals(3, firstPage(ref).incarnation(), "no second marker for nothing");

    ask(ref, r -> new AccountEntity.Ingest(List.of(msg("dm:bob", 1, "bob")), r));
    var stale = (AccountEntity.SyncReply) ask(ref, r -> new AccountEntity.Sync(cursor, null, 100, 0, 0, null, r));
    assertTrue(stale.reset(), "a cursor from before the erasure resets");

    kit.stop(ref);
    ActorRef<AccountEntity.Command> again = kit.spawn(AccountEntity.create(id, settings, codec));
    var replayed = firstPage(again);
    assertEquals(3, replayed.incarnation(), "replay ends in the new incarnation");
    assertEquals(List.of("dm:bob"), replayed.sessions().stream().map(imsync.core.Session::sessionId).toList());
    assertEquals(1, replayed.version());
  }
}
