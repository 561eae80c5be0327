package imsync.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import imsync.storage.SnapshotCodec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * The plain rules behind erasure (API v1.2): an erased account starts over empty in a new incarnation,
 * its snapshots keep the incarnation, cursors carry it tamper-evidently, and a cursor of another
 * incarnation resets even when the versions line up exactly.
 */
class ErasureRulesTest {
  private final CursorCodec codec = new CursorCodec("k".getBytes(StandardCharsets.UTF_8));

  @Test
  void anErasedAccountStartsOverEmptyInItsNewIncarnation() {
    StateFixture f = new StateFixture();
    f.ingest(f.msg("a", 1, "x"));
    f.run(f.state.decideDeleteSession("a", f.tick()));
    AccountState erased = AccountState.erased(f.state.limits(), new AccountEvent.Erased(12, f.tick()));
    assertEquals(12, erased.incarnation());
    assertEquals(0, erased.version());
    assertEquals(0, erased.sessionCount());
    assertEquals(0, erased.tombstoneCount());
    assertEquals(2, erased.groupCount(), "inbox and archive only");
    assertTrue(erased.sameAs(AccountState.fromSnapshot(erased.toSnapshot(), erased.limits())));
    assertFalse(erased.sameAs(new AccountState(f.state.limits())), "the incarnation is part of the state");
    assertThrows(IllegalStateException.class, () -> f.state.apply(new AccountEvent.Erased(13, f.tick())),
        "an erasure replaces the state, it is never applied onto it");
    assertFalse(new AccountEvent.Erased(1, 1).raisesVersion());
  }

  @Test
  void snapshotsKeepTheIncarnation() {
    StateFixture f = new StateFixture();
    AccountState st = AccountState.erased(f.state.limits(), new AccountEvent.Erased(41, 1));
    st.apply(new AccountEvent.MessageIngested("s", "direct", "T", 1, "x", "p", 5, false, false));
    AccountSnapshot back = SnapshotCodec.decode(SnapshotCodec.encode(st.toSnapshot()));
    assertEquals(41, back.incarnation());
    assertEquals(1, back.version());
    assertEquals(0, SnapshotCodec.decode(SnapshotCodec.encode(f.state.toSnapshot())).incarnation());
  }

  @Test
  void cursorsCarryTheIncarnationTamperEvidently() throws Exception {
    Cursor c = Cursor.Delta.caughtUp(7, 42);
    assertEquals(codec.encode("alice", c), codec.encode("alice", 0, c), "a never-erased account's cursors are as before");
    String wire = codec.encode("alice", 1_000_000_007L, c);
    CursorCodec.Issued issued = codec.read("alice", wire);
    assertEquals(1_000_000_007L, issued.incarnation());
    assertEquals(c, issued.cursor());
    assertEquals(0, codec.read("alice", codec.encode("alice", c)).incarnation());
    assertEquals(wire.length(), CursorCodec.encodedChars(c, 1_000_000_007L));
    assertTrue(CursorCodec.maxEncodedChars(32, 0) >= CursorCodec.encodedChars(c, Long.MAX_VALUE), "the size bound covers any incarnation");
    // another incarnation written into the bytes fails the MAC
    byte[] bytes = Base64.getUrlDecoder().decode(wire);
    bytes[1] ^= 0x02;
    String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    assertThrows(CursorCodec.InvalidCursorException.class, () -> codec.read("alice", forged));
  }

  @Test
  void aCursorOfAnotherIncarnationResetsEvenAtTheSameVersion() {
    StateFixture old = new StateFixture();
    for (int i = 1; i <= 3; i++) old.ingest(old.msg("old" + i, 1, "x"));
    View all = new View(null);
    SyncResult before = SyncPlanner.plan(old.state, all, null, 200);
    assertEquals(3, before.version());

    AccountState anew = AccountState.erased(old.state.limits(), new AccountEvent.Erased(9, 1));
    for (int i = 1; i <= 3; i++) anew.apply(new AccountEvent.MessageIngested("new" + i, "direct", "T", 1, "x", "p", 10 + i, false, false));
    assertEquals(3, anew.version());
    SyncResult stale = SyncPlanner.plan(anew, all, before.cursor(), 0, 200, 0, null);
    assertTrue(stale.reset(), "a cursor of the erased account resets");
    assertEquals(3, stale.sessions().size(), "with a first sync of the new account");
    SyncResult same = SyncPlanner.plan(anew, all, before.cursor(), 9, 200, 0, null);
    assertFalse(same.reset(), "the same cursor issued in this incarnation is a delta");
    assertEquals(0, same.sessions().size());
  }
}
