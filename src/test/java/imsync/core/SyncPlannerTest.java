package imsync.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SyncPlannerTest {
  final StateFixture f = new StateFixture();
  final CursorCodec codec = new CursorCodec("k".getBytes());

  @Test
  void firstSyncPutsPinnedFirstThenRecencyWithIdTiebreak() {
    long ts = 5_000;
    f.ingest(new IngestItem.Message("b", "direct", "", 1, "x", "", ts, List.of()),
        new IngestItem.Message("a", "direct", "", 1, "x", "", ts, List.of()),
        new IngestItem.Message("old", "direct", "", 1, "x", "", 1_000, List.of()),
        new IngestItem.Message("new", "direct", "", 1, "x", "", 9_000, List.of()));
    f.run(f.state.decideSetPinned(Box.INBOX, List.of("old"), 10_000));
    SyncResult r = SyncPlanner.plan(f.state, View.ALL, null, 200);
    assertEquals(List.of("old", "new", "a", "b"), r.sessions().stream().map(Session::sessionId).toList());
    assertFalse(r.hasMore());
    assertEquals(List.of(Box.INBOX, Box.ARCHIVE), r.groups().stream().map(Group::groupId).toList());
  }

  @Test
  void groupFilterSendsASessionInSeveralGroupsOnce() {
    f.ingest(f.msg("a", 1, "x"), f.msg("b", 1, "x"));
    f.run(f.state.decideCreateGroup("w", "W", f.tick()));
    f.run(f.state.decideCreateGroup("f", "F", f.tick()));
    f.run(f.state.decideAddMember("w", "a", f.tick()));
    f.run(f.state.decideAddMember("f", "a", f.tick()));
    SyncResult r = SyncPlanner.plan(f.state, new View(List.of("w", "f")), null, 200);
    assertEquals(List.of("a"), r.sessions().stream().map(Session::sessionId).toList());
    assertEquals(List.of("f", "w"), r.groups().stream().map(Group::groupId).sorted().toList());
  }

  @Test
  void cursorFromAnotherViewOrANewerHistoryResets() {
    f.ingest(f.msg("a", 1, "x"));
    SyncResult first = SyncPlanner.plan(f.state, View.ALL, null, 200);
    SyncResult other = SyncPlanner.plan(f.state, new View(List.of(Box.INBOX)), first.cursor(), 200);
    assertTrue(other.reset());
    assertEquals(1, other.sessions().size());
    Cursor future = Cursor.Delta.caughtUp(View.ALL.hash(), 99);
    assertTrue(SyncPlanner.plan(f.state, View.ALL, future, 200).reset());
  }

  @Test
  void deltaReportsRemovalsAndSessionsLeavingAFilteredView() {
    f.ingest(f.msg("a", 1, "x"), f.msg("b", 1, "x"));
    View inbox = new View(List.of(Box.INBOX));
    SyncResult first = SyncPlanner.plan(f.state, inbox, null, 200);
    f.run(f.state.decideBox("a", Box.ARCHIVE, f.tick()));
    f.run(f.state.decideDeleteSession("b", f.tick()));
    SyncResult delta = SyncPlanner.plan(f.state, inbox, first.cursor(), 200);
    assertEquals(List.of("a", "b"), delta.removedSessions());
    assertEquals(List.of(), delta.sessions());
  }

  @Test
  void changesThatNeverTouchAFilteredViewAreNotReported() {
    f.ingest(f.msg("a", 1, "x"), f.msg("b", 1, "x"));
    f.run(f.state.decideCreateGroup("w", "W", f.tick()));
    f.run(f.state.decideAddMember("w", "a", f.tick()));
    View work = new View(List.of("w"));
    SyncResult first = SyncPlanner.plan(f.state, work, null, 200);
    f.ingest(f.msg("b", 2, "x"), f.msg("c", 1, "x"));
    f.run(f.state.decideDeleteSession("b", f.tick()));
    SyncResult delta = SyncPlanner.plan(f.state, work, first.cursor(), 200);
    assertTrue(delta.isEmpty(), "nothing in or out of the view changed: " + delta);
    f.run(f.state.decideRemoveMember("w", "a", f.tick()));
    f.ingest(f.msg("a", 2, "x"));
    SyncResult left = SyncPlanner.plan(f.state, work, delta.cursor(), 200);
    assertEquals(List.of("a"), left.removedSessions());
    SyncResult after = SyncPlanner.plan(f.state, work, left.cursor(), 200);
    f.ingest(f.msg("a", 3, "x"));
    assertTrue(SyncPlanner.plan(f.state, work, after.cursor(), 200).isEmpty(), "its removal was already told");
  }

  @Test
  void aFilteredClientLearnsOfARemovalEvenWhenTheSessionCameBackOutsideItsView() {
    f.ingest(f.msg("a", 1, "x"));
    f.run(f.state.decideCreateGroup("w", "W", f.tick()));
    f.run(f.state.decideAddMember("w", "a", f.tick()));
    View work = new View(List.of("w"));
    SyncResult first = SyncPlanner.plan(f.state, work, null, 200);
    assertEquals(1, first.sessions().size());
    f.run(f.state.decideDeleteSession("a", f.tick()));
    f.ingest(f.msg("a", 2, "x"));
    SyncResult delta = SyncPlanner.plan(f.state, work, first.cursor(), 200);
    assertEquals(List.of("a"), delta.removedSessions());
  }

  @Test
  void cursorsAreBoundToTheAccountAndTamperEvident() throws Exception {
    Cursor c = new Cursor.First(7, 3, 3, 0, new SortEntry(5, "dm:bob"));
    String wire = codec.encode("alice", c);
    assertEquals(c, codec.decode("alice", wire));
    assertTrue(wire.length() < 64, "compact: " + wire.length());
    assertThrows(CursorCodec.InvalidCursorException.class, () -> codec.decode("mallory", wire));
    char[] chars = wire.toCharArray();
    chars[3] = chars[3] == 'A' ? 'B' : 'A';
    assertThrows(CursorCodec.InvalidCursorException.class, () -> codec.decode("alice", new String(chars)));
    assertThrows(CursorCodec.InvalidCursorException.class, () -> codec.decode("alice", "not a cursor!"));
    assertThrows(CursorCodec.InvalidCursorException.class, () -> codec.decode("alice", ""));
  }

  @Test
  void deltaCostDoesNotDependOnUntouchedSessions() {
    for (int i = 0; i < 5_000; i++) f.state.apply(new AccountEvent.MessageIngested("s" + i, "direct", "", 1, "x", "", i, false, false));
    SyncResult first = SyncPlanner.plan(f.state, View.ALL, Cursor.Delta.caughtUp(View.ALL.hash(), f.state.version()), 10);
    assertEquals(0, first.sessions().size());
    f.ingest(f.msg("s42", 2, "x"));
    SyncResult d = SyncPlanner.plan(f.state, View.ALL, first.cursor(), 10);
    assertEquals(List.of("s42"), d.sessions().stream().map(Session::sessionId).toList());
    assertFalse(d.hasMore());
  }
}
