package imsync.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Smart folders (v1.1) in the account state: each rule field, the overrides, rule changes, deletes, snapshots. */
class SmartFolderTest {
  final StateFixture f = new StateFixture();

  static SmartRule rule() {
    return new SmartRule(null, null, null, null, null, null, null, null);
  }

  private void smart(String gid, SmartRule r) {
    assertInstanceOf(Decision.Accept.class, f.run(f.state.decideCreateGroup(gid, gid, r, f.tick())));
  }

  private List<String> members(String gid) {
    List<String> out = new ArrayList<>();
    f.state.mappingList(gid).after(null).forEach(e -> out.add(e.sessionId()));
    return out;
  }

  private void accounts() {
    f.ingest(f.msg("a", 1, "bob"));                       // unread direct, inbox
    f.ingest(f.mention("b", 1, "bob"));                   // unread + mentioned group
    f.ingest(f.msg("c", 1, StateFixture.ME));             // read direct
    f.ingest(new IngestItem.Update("d", "channel", "D", f.tick())); // channel, no messages
    f.run(f.state.decideBox("d", Box.ARCHIVE, f.tick()));
  }

  @Test
  void emptyRuleMatchesEverySessionAndKeepsRecencyOrder() {
    accounts();
    smart("all", rule());
    Group g = f.state.group("all");
    assertEquals(Group.SMART, g.kind());
    assertEquals(4, g.sessionCount());
    assertEquals(List.of("d", "c", "b", "a"), members("all"));
    assertEquals(List.of(), f.s("a").groups(), "groups lists custom groups only");
  }

  @Test
  void unreadFieldFollowsReadsAndMarkedUnread() {
    accounts();
    smart("unread", new SmartRule(true, null, null, null, null, null, null, null));
    smart("read", new SmartRule(false, null, null, null, null, null, null, null));
    assertEquals(List.of("b", "a"), members("unread"));
    assertEquals(2, f.state.group("unread").unreadSessions());
    assertEquals(2, f.state.group("unread").unreadMessages());
    long before = f.state.group("unread").version();
    f.run(f.state.decideRead("a", 1, f.tick()));
    assertEquals(List.of("b"), members("unread"));
    assertTrue(f.s("a").inGroup("read"));
    assertTrue(f.state.group("unread").version() > before, "aggregates changed: version rises");
    assertTrue(f.s("a").leftAt().containsKey("unread"), "the departure is noted for filtered deltas");
    f.run(f.state.decideMarkUnread("c", f.tick()));
    assertTrue(f.s("c").inGroup("unread"));
    assertFalse(f.s("c").inGroup("read"));
  }

  @Test
  void mentionedKindsAndBoxFields() {
    accounts();
    smart("m", new SmartRule(null, true, null, null, null, null, null, null));
    smart("nm", new SmartRule(null, false, null, null, null, null, null, null));
    smart("k", new SmartRule(null, null, List.of("direct", "channel"), null, null, null, null, null));
    smart("arch", new SmartRule(null, null, null, Box.ARCHIVE, null, null, null, null));
    assertEquals(List.of("b"), members("m"));
    assertEquals(List.of("d", "c", "a"), members("nm"));
    assertEquals(List.of("d", "c", "a"), members("k"));
    assertEquals(List.of("d"), members("arch"));
    f.run(f.state.decideRead("b", 1, f.tick()));
    assertEquals(List.of(), members("m"));
    f.ingest(new IngestItem.Update("a", "group", null, f.tick()));
    assertFalse(f.s("a").inGroup("k"));
    f.run(f.state.decideBox("c", Box.ARCHIVE, f.tick()));
    assertEquals(List.of("c", "d"), members("arch").stream().sorted().toList());
  }

  @Test
  void groupFieldsFollowCustomMembershipIncludingGroupsCreatedLater() {
    accounts();
    smart("work-ish", new SmartRule(null, null, null, null, List.of("work"), null, null, null));
    smart("not-work", new SmartRule(null, null, null, null, null, List.of("work"), null, null));
    assertEquals(List.of(), members("work-ish"), "a group that does not exist yet: no match");
    assertEquals(4, f.state.group("not-work").sessionCount());
    f.run(f.state.decideCreateGroup("work", "Work", f.tick()));
    f.run(f.state.decideAddMember("work", "a", f.tick()));
    assertEquals(List.of("a"), members("work-ish"));
    assertFalse(f.s("a").inGroup("not-work"));
    f.run(f.state.decideDeleteGroup("work", f.tick()));
    assertEquals(List.of(), members("work-ish"));
    assertTrue(f.s("a").inGroup("not-work"));
  }

  @Test
  void overridesIncludeAndExcludeWithExcludeWinning() {
    accounts();
    smart("o", new SmartRule(true, null, null, null, null, null, List.of("c", "d", "zz"), List.of("a", "d")));
    assertEquals(List.of("c", "b"), members("o"), "c included though read; a and d excluded; zz does not exist");
    f.ingest(f.msg("zz", 1, StateFixture.ME));
    assertTrue(f.s("zz").inGroup("o"), "an included session is a member whenever it exists");
  }

  @Test
  void ruleChangeRescansAndRaisesVersionsOfMovedSessionsOnly() {
    accounts();
    smart("u", new SmartRule(true, null, null, null, null, null, null, null));
    long vc = f.s("c").version();
    long va = f.s("a").version();
    f.run(f.state.decidePatchGroup("u", null, null, new SmartRule(null, null, List.of("direct"), null, null, null, null, null), f.tick()));
    long v = f.state.version();
    assertEquals(List.of("c", "a"), members("u"));
    assertEquals(v, f.s("c").version(), "entered: a filtered delta must see it");
    assertEquals(v, f.s("b").version(), "left: a filtered delta must name it removed");
    assertEquals(va, f.s("a").version(), "stayed: untouched");
    assertTrue(vc < v);
    assertEquals(v, f.state.group("u").version());
    assertEquals(List.of("direct"), f.state.group("u").rule().kinds());
    assertInstanceOf(Decision.Unchanged.class, f.state.decidePatchGroup("u", null, null, f.state.group("u").rule(), f.tick()));
  }

  @Test
  void noHandMadeMembersNoPinsNoRuleOnCustomGroups() {
    accounts();
    smart("u", rule());
    f.run(f.state.decideCreateGroup("work", "Work", f.tick()));
    for (Decision d : List.of(f.state.decideAddMember("u", "a", 1), f.state.decideRemoveMember("u", "a", 1),
        f.state.decideAddMembers("u", List.of("a"), 1), f.state.decideSetPinned("u", List.of("a"), 1),
        f.state.decidePatchGroup("work", null, null, rule(), 1))) {
      assertInstanceOf(Decision.Reject.class, d);
      assertEquals(ErrorCode.INVALID_REQUEST, ((Decision.Reject) d).code());
    }
  }

  @Test
  void smartAndCustomShareTheGroupLimit() {
    StateFixture small = new StateFixture(new Limits(2, 3, 5_000, 3));
    small.run(small.state.decideCreateGroup("x", "X", rule(), 1));
    small.run(small.state.decideCreateGroup("y", "Y", 1));
    Decision d = small.state.decideCreateGroup("z", "Z", rule(), 1);
    assertEquals(ErrorCode.LIMIT_EXCEEDED, ((Decision.Reject) d).code());
  }

  @Test
  void deleteEmptiesTheFolderAndRemovedSessionsLeaveIt() {
    accounts();
    smart("u", new SmartRule(true, null, null, null, null, null, null, null));
    f.run(f.state.decideDeleteSession("a", f.tick()));
    assertEquals(List.of("b"), members("u"));
    assertTrue(f.state.tombstone("a").memberships().contains("u"));
    f.run(f.state.decideDeleteGroup("u", f.tick()));
    assertEquals(null, f.state.group("u"));
    assertEquals(List.of(), f.s("b").smart());
  }

  @Test
  void snapshotRecomputesMembershipFromRules() {
    accounts();
    smart("u", new SmartRule(true, null, null, null, null, null, null, null));
    AccountSnapshot snap = f.state.toSnapshot();
    // a snapshot encoding that keeps nothing of smart membership still restores it
    List<Session> stripped = snap.sessions().stream().map(s -> s.withSmart(List.of())).toList();
    AccountSnapshot bare = new AccountSnapshot(snap.version(), snap.prunedThrough(), stripped, snap.groups(), snap.tombstones(),
        snap.removedGroups(), snap.devices(), snap.pinsCompleteAfter(), snap.pinChanges());
    AccountState back = AccountState.fromSnapshot(bare, f.state.limits());
    assertTrue(back.sameAs(f.state));
    f.run(f.state.decideRead("b", 1, 5));
    back.apply(new AccountEvent.ReadMarked("b", 1, 5));
    assertTrue(back.sameAs(f.state));
    assertEquals(List.of("a"), List.of(back.mappingList("u").after(null).first().sessionId()));
  }

  @Test
  void aNewFolderKeepsItsMembersVersionsButAReusedIdRaisesThem() {
    accounts();
    long va = f.s("a").version();
    smart("u", new SmartRule(true, null, null, null, null, null, null, null));
    assertEquals(va, f.s("a").version(), "a fresh id: no cursor can name it, members keep their version");
    assertTrue(f.s("a").inGroup("u"));
    f.run(f.state.decideDeleteGroup("u", f.tick()));
    smart("u", new SmartRule(true, null, null, null, null, null, null, null));
    assertEquals(f.state.version(), f.s("a").version(), "a reused id: clients of the old view must hear of the members");
    SyncConvergenceProperties.checkIndexes(f.state);
  }
}
