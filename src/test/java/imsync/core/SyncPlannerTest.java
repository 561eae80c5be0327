package imsync.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

  /**
   * Issue 8: a paged first sync sent pinned sessions again when the recency walk reached them. 300
   * sessions, 3 pinned in inbox, 2 pinned in a custom group; every page size sends each session once.
   */
  @Test
  void pagedFirstSyncSendsPinnedSessionsOnceAtEveryPageSize() {
    for (int i = 0; i < 300; i++) f.ingest(f.msg(String.format("s%03d", i), 1, "x"));
    f.run(f.state.decideCreateGroup("fav", "Fav", f.tick()));
    for (int i = 0; i < 300; i += 10) f.run(f.state.decideAddMember("fav", String.format("s%03d", i), f.tick()));
    f.run(f.state.decideSetPinned(Box.INBOX, List.of("s007", "s150", "s299"), f.tick()));
    f.run(f.state.decideSetPinned("fav", List.of("s020", "s150"), f.tick()));
    for (View view : List.of(View.ALL, new View(List.of(Box.INBOX, "fav")), new View(List.of("fav")))) {
      for (int limit : new int[] {1, 7, 20}) {
        Map<String, Integer> times = new HashMap<>();
        List<String> order = new ArrayList<>();
        Cursor cursor = null;
        SyncResult r;
        int pages = 0;
        do {
          r = SyncPlanner.plan(f.state, view, cursor, limit);
          for (Session s : r.sessions()) {
            times.merge(s.sessionId(), 1, Integer::sum);
            order.add(s.sessionId());
          }
          assertTrue(r.removedSessions().isEmpty());
          cursor = r.cursor();
          assertTrue(++pages < 1000, "paging ends");
        } while (r.hasMore());
        String where = view.groupIds() + " limit " + limit;
        for (var e : times.entrySet()) assertEquals(1, e.getValue(), e.getKey() + " sent once, " + where);
        long expected = view.isAll() ? 300 : view.groupIds().contains(Box.INBOX) ? 300 : 30;
        assertEquals(expected, times.size(), "every session of the view, " + where);
        List<String> pinnedFirst = view.isAll() || view.groupIds().contains(Box.INBOX)
            ? List.of("s007", "s150", "s299", "s020") : List.of("s020", "s150");
        assertEquals(pinnedFirst, order.subList(0, pinnedFirst.size()), "pinned first, " + where);
      }
    }
  }

  @Test
  void pinsChangedWhileAFirstSyncPagesNeverLoseASession() {
    for (int i = 0; i < 40; i++) f.ingest(f.msg(String.format("s%02d", i), 1, "x"));
    f.run(f.state.decideSetPinned(Box.INBOX, List.of("s05"), f.tick()));
    SyncResult r = SyncPlanner.plan(f.state, View.ALL, null, 5);
    Map<String, Integer> times = new HashMap<>();
    r.sessions().forEach(s -> times.merge(s.sessionId(), 1, Integer::sum));
    // s00 is the oldest, not reached by the walk yet: pinning it after the pinned phase must not make the
    // walk skip it
    f.run(f.state.decideSetPinned(Box.INBOX, List.of("s05", "s00"), f.tick()));
    while (r.hasMore()) {
      r = SyncPlanner.plan(f.state, View.ALL, r.cursor(), 5);
      r.sessions().forEach(s -> times.merge(s.sessionId(), 1, Integer::sum));
    }
    assertEquals(40, times.size(), "no session lost when pins change mid-run");
  }

  /**
   * Issue 16: pins that change while a first sync pages neither make the walk send a pinned session again
   * nor lose one. The pinned phase sends the pins as of the run's start; the walk skips exactly those.
   */
  @Test
  void pinsChangedMidRunNeitherResendNorLoseASession() {
    for (int i = 0; i < 40; i++) f.ingest(f.msg(String.format("s%02d", i), 1, "x"));
    f.run(f.state.decideCreateGroup("fav", "Fav", f.tick()));
    for (String id : List.of("s03", "s10", "s20", "s30")) f.run(f.state.decideAddMember("fav", id, f.tick()));
    f.run(f.state.decideSetPinned(Box.INBOX, List.of("s05", "s10"), f.tick()));
    f.run(f.state.decideSetPinned("fav", List.of("s03", "s30"), f.tick()));
    long start = f.state.version();
    Map<String, Integer> times = new HashMap<>();
    List<String> order = new ArrayList<>();
    SyncResult r = SyncPlanner.plan(f.state, View.ALL, null, 2);
    r.sessions().forEach(s -> order.add(s.sessionId()));
    // mid pinned phase: unpin two not sent yet and one sent, pin the oldest, move fav before the inbox
    f.run(f.state.decideSetPinned(Box.INBOX, List.of("s00"), f.tick()));
    f.run(f.state.decideSetPinned("fav", List.of("s20"), f.tick()));
    f.run(f.state.decidePatchGroup("fav", null, -1, f.tick()));
    int pages = 1;
    while (r.hasMore()) {
      r = SyncPlanner.plan(f.state, View.ALL, r.cursor(), 2);
      assertFalse(r.reset());
      r.sessions().forEach(s -> order.add(s.sessionId()));
      if (++pages == 4) f.run(f.state.decideSetPinned(Box.INBOX, List.of("s39", "s05"), f.tick()));
    }
    for (String id : order) times.merge(id, 1, Integer::sum);
    for (var e : times.entrySet()) {
      assertTrue(e.getValue() == 1 || f.state.session(e.getKey()).version() > start, e.getKey() + " sent " + e.getValue() + " times");
    }
    assertEquals(40, times.size(), "no session lost");
    assertEquals(List.of("s05", "s10", "s03", "s30"), order.subList(0, 4), "the pins as of the start, in their order then");
  }

  @Test
  void aFirstSyncOlderThanThePinHistoryStartsOver() {
    for (int i = 0; i < 10; i++) f.ingest(f.msg("s" + i, 1, "x"));
    SyncResult r = SyncPlanner.plan(f.state, View.ALL, null, 3);
    for (int i = 0; i <= PinHistory.MAX_ENTRIES; i++) f.run(f.state.decideSetPinned(Box.INBOX, List.of("s" + (i % 2)), f.tick()));
    assertTrue(f.state.pinsKnownFrom() > ((Cursor.First) r.cursor()).snapshotVersion(), "history dropped the run's start");
    SyncResult next = SyncPlanner.plan(f.state, View.ALL, r.cursor(), 3);
    assertTrue(next.reset(), "its pinned phase cannot be known: a reset, not a repeat");
  }

  /** The pin history travels in snapshots: a run survives the entity's restart; an older snapshot's starts there. */
  @Test
  void pinHistorySurvivesASnapshot() {
    for (int i = 0; i < 12; i++) f.ingest(f.msg(String.format("s%02d", i), 1, "x"));
    f.run(f.state.decideSetPinned(Box.INBOX, List.of("s01", "s02"), f.tick()));
    SyncResult r = SyncPlanner.plan(f.state, View.ALL, null, 1);
    Cursor begunBefore = r.cursor();
    f.run(f.state.decideSetPinned(Box.INBOX, List.of("s03"), f.tick()));
    AccountSnapshot snap = f.state.toSnapshot();
    AccountState restored = AccountState.fromSnapshot(imsync.storage.SnapshotCodec.decode(imsync.storage.SnapshotCodec.encode(snap)),
        f.state.limits());
    assertTrue(restored.sameAs(f.state));
    assertEquals(List.of("s01", "s02"), restored.pinnedAt(((Cursor.First) begunBefore).snapshotVersion(), View.ALL));
    Map<String, Integer> times = new HashMap<>();
    r.sessions().forEach(s -> times.merge(s.sessionId(), 1, Integer::sum));
    while (r.hasMore()) {
      r = SyncPlanner.plan(restored, View.ALL, r.cursor(), 1);
      assertFalse(r.reset());
      r.sessions().forEach(s -> times.merge(s.sessionId(), 1, Integer::sum));
    }
    assertEquals(12, times.size());
    assertTrue(times.values().stream().allMatch(n -> n == 1), "each once: " + times);
    AccountSnapshot old = new AccountSnapshot(snap.version(), snap.prunedThrough(), snap.sessions(), snap.groups(), snap.tombstones(),
        snap.removedGroups(), snap.devices(), 0, null);
    AccountState fromOld = AccountState.fromSnapshot(old, f.state.limits());
    assertEquals(snap.version(), fromOld.pinsKnownFrom(), "a snapshot without the history knows pins from its version");
    assertTrue(SyncPlanner.plan(fromOld, View.ALL, begunBefore, 1).reset(), "a run begun before it starts over");
    assertFalse(SyncPlanner.plan(fromOld, View.ALL, SyncPlanner.plan(f.state, View.ALL, null, 1).cursor(), 1).reset());
  }

  /** A run begun with a format-2 cursor (pinned hash) still ends, every session sent. */
  @Test
  void aRunBegunUnderTheHashedCursorFormatEnds() throws Exception {
    for (int i = 0; i < 20; i++) f.ingest(f.msg(String.format("s%02d", i), 1, "x"));
    f.run(f.state.decideSetPinned(Box.INBOX, List.of("s04"), f.tick()));
    long hash = SyncPlanner.pinnedHash(SyncPlanner.pinnedOfView(f.state, View.ALL));
    Cursor legacy = new Cursor.First(View.ALL.hash(), f.state.version(), f.state.version(), 1, null, hash, null);
    Cursor decoded = codec.decode("me", codec.encode("me", legacy));
    Map<String, Integer> times = new HashMap<>();
    times.put("s04", 1); // its pinned phase sent s04
    SyncResult r;
    do {
      r = SyncPlanner.plan(f.state, View.ALL, decoded, 3);
      assertFalse(r.reset());
      r.sessions().forEach(s -> times.merge(s.sessionId(), 1, Integer::sum));
      decoded = codec.decode("me", codec.encode("me", r.cursor()));
    } while (r.hasMore());
    assertEquals(20, times.size());
    assertTrue(times.values().stream().allMatch(n -> n == 1), "each once: " + times);
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
    assertTrue(wire.length() < 48, "compact: " + wire.length());
    // a cursor of a run begun under format 2 keeps its pinned hash (and its format) to the run's end
    Cursor legacy = new Cursor.First(7, 3, 3, 0, new SortEntry(5, "dm:bob"), 0x1234_5678_9abc_def0L, null);
    assertEquals(legacy, codec.decode("alice", codec.encode("alice", legacy)));
    int longer = codec.encode("alice", legacy).length() - wire.length();
    assertTrue(longer == 10 || longer == 11, "8 more bytes (10 or 11 base64 characters): the hash, " + longer);
    // a delta is written in format 2, which nodes of the previous version read (a rolling upgrade)
    assertEquals(2, java.util.Base64.getUrlDecoder().decode(codec.encode("alice", Cursor.Delta.caughtUp(7, 9)))[0]);
    assertEquals(4, java.util.Base64.getUrlDecoder().decode(wire)[0]);
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
