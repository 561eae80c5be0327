package imsync.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AccountStateTest {
  final StateFixture f = new StateFixture();

  @Test
  void firstMessageCountsAsOneUnreadAndLaterOnesAdd() {
    f.ingest(f.msg("dm:bob", 40, "bob"));
    assertEquals(39, f.s("dm:bob").readSeq());
    assertEquals(1, f.s("dm:bob").unreadCount());
    f.ingest(f.msg("dm:bob", 41, "bob"), f.msg("dm:bob", 42, "bob"));
    assertEquals(3, f.s("dm:bob").unreadCount());
    assertEquals(42, f.s("dm:bob").lastMessage().seq());
    assertEquals(3, f.state.version());
  }

  @Test
  void ownMessageMarksEverythingReadAndClearsMarkedUnread() {
    f.ingest(f.msg("dm:bob", 1, "bob"), f.msg("dm:bob", 2, "bob"));
    f.run(f.state.decideMarkUnread("dm:bob", f.tick()));
    f.ingest(f.msg("dm:bob", 3, StateFixture.ME));
    Session s = f.s("dm:bob");
    assertEquals(3, s.readSeq());
    assertEquals(0, s.unreadCount());
    assertFalse(s.markedUnread());
  }

  @Test
  void sessionCreatedByOwnMessageStartsRead() {
    f.ingest(f.msg("dm:x", 7, StateFixture.ME));
    assertEquals(0, f.s("dm:x").unreadCount());
  }

  @Test
  void duplicateAndOlderMessagesAreIgnoredEvenWithinOneBatch() {
    AccountState.IngestDecision d = f.ingest(f.msg("a", 5, "bob"), f.msg("a", 5, "bob"), f.msg("a", 4, "bob"));
    assertEquals(1, d.events().size());
    assertEquals(2, d.ignored());
    long v = f.state.version();
    AccountState.IngestDecision again = f.ingest(f.msg("a", 5, "bob"));
    assertEquals(0, again.events().size());
    assertEquals(v, f.state.version());
  }

  @Test
  void readNeverMovesBackAndIsCappedAtLastSeq() {
    f.ingest(f.msg("a", 10, "bob"), f.msg("a", 11, "bob"), f.msg("a", 12, "bob"));
    assertInstanceOf(Decision.Accept.class, f.run(f.state.decideRead("a", 11, f.tick())));
    assertEquals(1, f.s("a").unreadCount());
    assertInstanceOf(Decision.Unchanged.class, f.run(f.state.decideRead("a", 5, f.tick())));
    f.run(f.state.decideRead("a", 1000, f.tick()));
    assertEquals(12, f.s("a").readSeq());
  }

  @Test
  void mentionsCountOnlyAboveReadSeq() {
    f.ingest(f.mention("g:team", 1, "bob"), f.mention("g:team", 2, "carol"), f.msg("g:team", 3, "bob"));
    assertEquals(2, f.s("g:team").mentionCount());
    f.run(f.state.decideRead("g:team", 1, f.tick()));
    assertEquals(1, f.s("g:team").mentionCount());
    f.run(f.state.decideRead("g:team", 3, f.tick()));
    assertEquals(0, f.s("g:team").mentionCount());
  }

  @Test
  void sortKeyIsMaxOfCreationMessageAndDraft() {
    f.ingest(f.msg("a", 1, "bob"));
    long msgTs = f.s("a").lastMessage().ts();
    assertEquals(msgTs, f.s("a").sortKey());
    long draftTs = f.tick();
    f.run(f.state.decideDraft("a", "hello", draftTs));
    assertEquals(draftTs, f.s("a").sortKey());
    f.run(f.state.decideDraft("a", "", f.tick()));
    assertNull(f.s("a").draft());
    assertEquals(msgTs, f.s("a").sortKey());
  }

  @Test
  void archivedUnmutedSessionReturnsToInboxOnMessageFromOthersButMutedStays() {
    f.ingest(f.msg("a", 1, "bob"), f.msg("b", 1, "bob"));
    f.run(f.state.decideBox("a", Box.ARCHIVE, f.tick()));
    f.run(f.state.decideBox("b", Box.ARCHIVE, f.tick()));
    f.run(f.state.decideMute("b", Long.MAX_VALUE, f.tick()));
    f.ingest(f.msg("a", 2, StateFixture.ME));
    assertEquals(Box.ARCHIVE, f.s("a").box());
    f.ingest(f.msg("a", 3, "bob"), f.msg("b", 2, "bob"));
    assertEquals(Box.INBOX, f.s("a").box());
    assertEquals(Box.ARCHIVE, f.s("b").box());
  }

  @Test
  void deletedSessionComesBackOnlyWithHigherSeqAndKeepsItsSeqAsRead() {
    f.ingest(f.msg("a", 9, "bob"), f.msg("a", 10, "bob"));
    f.run(f.state.decideDeleteSession("a", f.tick()));
    assertNull(f.s("a"));
    assertEquals(0, f.ingest(f.msg("a", 10, "bob")).events().size());
    f.ingest(f.msg("a", 12, "bob"));
    assertEquals(10, f.s("a").readSeq());
    assertEquals(2, f.s("a").unreadCount());
    assertNull(f.state.tombstone("a"));
  }

  @Test
  void replayingAnIngestLogChangesNothing() {
    List<IngestItem> log = List.of(
        f.msg("a", 1, "bob"), f.msg("a", 2, "bob"),
        new IngestItem.Removed("a", f.tick()),
        new IngestItem.Update("a", "group", "Back", f.tick()),
        f.msg("a", 3, "bob"),
        new IngestItem.Removed("b", f.tick()),
        f.msg("b", 1, "bob"),
        new IngestItem.Update("b", "channel", "First", f.tick()),
        new IngestItem.Update("b", "channel", "Second", f.tick()));
    AccountState.IngestDecision first = f.state.decideIngest(StateFixture.ME, log);
    first.events().forEach(f.state::apply);
    assertEquals(8, first.events().size(), "the removal of b, absent then, is ignored");
    long version = f.state.version();
    AccountState.IngestDecision again = f.state.decideIngest(StateFixture.ME, log);
    assertEquals(0, again.events().size(), "a replay is all ignored: " + again.events());
    assertEquals(log.size(), again.ignored());
    assertEquals(version, f.state.version());
    assertEquals(3, f.s("a").lastSeq());
    assertEquals(2, f.s("a").readSeq(), "brought back by the update with the seq it had");
    assertEquals("Second", f.s("b").title(), "the latest update's title stays");
  }

  @Test
  void groupAggregatesFollowMembersAndVersionsRise() {
    f.ingest(f.msg("a", 1, "bob"), f.msg("b", 1, "bob"), f.msg("b", 2, "bob"));
    Group inbox = f.state.group(Box.INBOX);
    assertEquals(2, inbox.sessionCount());
    assertEquals(2, inbox.unreadSessions());
    assertEquals(3, inbox.unreadMessages());
    f.run(f.state.decideCreateGroup("work", "Work", f.tick()));
    assertEquals(2, f.state.group("work").position());
    f.run(f.state.decideAddMember("work", "b", f.tick()));
    assertEquals(2, f.state.group("work").unreadMessages());
    f.run(f.state.decideRead("b", 2, f.tick()));
    assertEquals(0, f.state.group("work").unreadSessions());
    assertEquals(f.state.version(), f.state.group("work").version());
    assertEquals(1, f.state.group(Box.INBOX).unreadMessages());
    f.run(f.state.decideMarkUnread("b", f.tick()));
    assertEquals(1, f.state.group("work").unreadSessions());
    assertEquals(0, f.state.group("work").unreadMessages());
  }

  @Test
  void bulkAddPutsManySessionsInAGroupInOneDecisionAndSkipsMembersAndRepeats() {
    f.ingest(f.msg("a", 1, "bob"), f.msg("b", 1, "bob"), f.msg("c", 1, "bob"));
    f.run(f.state.decideCreateGroup("work", "Work", f.tick()));
    f.run(f.state.decideAddMember("work", "a", f.tick()));
    Decision d = f.run(f.state.decideAddMembers("work", List.of("a", "b", "c", "b"), f.tick()));
    assertEquals(2, ((Decision.Accept) d).events().size(), "a is a member already and b repeats");
    assertEquals(3, f.state.group("work").sessionCount());
    assertEquals(List.of("work"), f.s("c").groups());
    assertInstanceOf(Decision.Unchanged.class, f.state.decideAddMembers("work", List.of("a", "c"), f.tick()));
    assertEquals(ErrorCode.NOT_FOUND, reject(f.state.decideAddMembers("work", List.of("a", "zzz"), f.tick())));
    assertEquals(ErrorCode.INVALID_REQUEST, reject(f.state.decideAddMembers(Box.ARCHIVE, List.of("a"), f.tick())));
    assertEquals(ErrorCode.NOT_FOUND, reject(f.state.decideAddMembers("nope", List.of("a"), f.tick())));
  }

  @Test
  void boxMoveDropsPinsOfTheOldBox() {
    f.ingest(f.msg("a", 1, "bob"), f.msg("b", 1, "bob"));
    f.run(f.state.decideSetPinned(Box.INBOX, List.of("a", "b"), f.tick()));
    f.run(f.state.decideBox("a", Box.ARCHIVE, f.tick()));
    assertEquals(List.of("b"), f.state.group(Box.INBOX).pinned());
    assertEquals(1, f.state.group(Box.ARCHIVE).sessionCount());
  }

  @Test
  void groupRulesAndLimits() {
    StateFixture small = new StateFixture(new Limits(1, 1, 1000, 10));
    small.ingest(small.msg("a", 1, "bob"), small.msg("b", 1, "bob"));
    assertEquals(ErrorCode.INVALID_REQUEST, reject(small.state.decideCreateGroup("inbox", "x", 1)));
    small.run(small.state.decideCreateGroup("work", "Work", 1));
    assertEquals(ErrorCode.CONFLICT, reject(small.state.decideCreateGroup("work", "Work", 1)));
    assertEquals(ErrorCode.LIMIT_EXCEEDED, reject(small.state.decideCreateGroup("more", "More", 1)));
    assertEquals(ErrorCode.INVALID_REQUEST, reject(small.state.decideDeleteGroup(Box.ARCHIVE, 1)));
    assertEquals(ErrorCode.INVALID_REQUEST, reject(small.state.decidePatchGroup(Box.INBOX, "x", null, 1)));
    assertEquals(ErrorCode.INVALID_REQUEST, reject(small.state.decideAddMember(Box.INBOX, "a", 1)));
    assertEquals(ErrorCode.NOT_FOUND, reject(small.state.decideRemoveMember("work", "a", 1)));
    assertEquals(ErrorCode.NOT_FOUND, reject(small.state.decideAddMember("nope", "a", 1)));
    assertEquals(ErrorCode.NOT_FOUND, reject(small.state.decideAddMember("work", "zzz", 1)));
    assertEquals(ErrorCode.INVALID_REQUEST, reject(small.state.decideSetPinned("work", List.of("a"), 1)));
    assertEquals(ErrorCode.LIMIT_EXCEEDED, reject(small.state.decideSetPinned(Box.INBOX, List.of("a", "b"), 1)));
    assertInstanceOf(Decision.Unchanged.class, small.state.decidePatchGroup("work", "Work", 2, 1));
  }

  @Test
  void deletingAGroupUpdatesItsMembersAndLeavesATombstone() {
    f.ingest(f.msg("a", 1, "bob"));
    f.run(f.state.decideCreateGroup(null, "Auto", f.tick()));
    assertNotNull(f.state.group("folder-1"));
    f.run(f.state.decideAddMember("folder-1", "a", f.tick()));
    assertEquals(List.of("folder-1"), f.s("a").groups());
    f.run(f.state.decideDeleteGroup("folder-1", f.tick()));
    assertEquals(List.of(), f.s("a").groups());
    assertEquals(f.state.version(), f.s("a").version());
    assertTrue(f.state.removedGroups().stream().anyMatch(t -> t.groupId().equals("folder-1")));
  }

  @Test
  void oldRemovalsArePrunedOnlyPastBothRetentionBounds() {
    StateFixture small = new StateFixture(new Limits(32, 10, 10_000, 2));
    for (int i = 0; i < 5; i++) small.ingest(small.msg("s" + i, 1, "bob"));
    for (int i = 0; i < 5; i++) small.run(small.state.decideDeleteSession("s" + i, small.clock));
    assertEquals(5, small.state.tombstoneCount(), "within retention time nothing goes");
    small.clock += 60_000;
    small.ingest(small.msg("x", 1, "bob"));
    assertEquals(2, small.state.tombstoneCount());
    assertTrue(small.state.prunedThrough() > 0);
  }

  @Test
  void snapshotRoundTripRebuildsIdenticalState() {
    f.ingest(f.msg("a", 1, "bob"), f.mention("b", 3, "bob"), f.msg("c", 1, "bob"));
    f.run(f.state.decideCreateGroup("work", "Work", f.tick()));
    f.run(f.state.decideAddMember("work", "b", f.tick()));
    f.run(f.state.decideSetPinned("work", List.of("b"), f.tick()));
    f.run(f.state.decideDeleteSession("c", f.tick()));
    AccountState copy = AccountState.fromSnapshot(f.state.toSnapshot(), Limits.defaults());
    assertTrue(copy.sameAs(f.state));
    assertEquals(f.state.mappingList("work").size(), copy.mappingList("work").size());
  }

  private static ErrorCode reject(Decision d) {
    return assertInstanceOf(Decision.Reject.class, d).code();
  }
}
