package imsync.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import imsync.storage.SnapshotCodec;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The compact snapshot form ({@link SnapshotCodec}) gives back the same state: random operation
 * histories (sessions, removals, groups, pins, drafts, devices), strings no UTF-8 round trip keeps, and
 * corrupt input is refused rather than loaded.
 */
class SnapshotCodecProperties {

  @Property(tries = 200)
  void randomHistoriesRoundTrip(@ForAll long seed, @ForAll @IntRange(min = 0, max = 120) int steps) {
    StateFixture f = new StateFixture(new Limits(4, 3, 5_000, 3));
    SyncConvergenceProperties.RandomOps ops = new SyncConvergenceProperties.RandomOps(f, new Random(seed));
    for (int i = 0; i < steps; i++) ops.step();
    f.state.apply(new AccountEvent.DevicesProgressed(List.of(new Device("phone", 1, 2, f.state.version())), f.tick()));
    AccountSnapshot snap = f.state.toSnapshot();
    byte[] bytes = SnapshotCodec.encode(snap);
    AccountSnapshot back = SnapshotCodec.decode(bytes);
    // smart membership is not stored (recomputed from the groups' rules on load): compare without it
    AccountSnapshot expected = new AccountSnapshot(snap.version(), snap.prunedThrough(),
        snap.sessions().stream().map(s -> s.withSmart(List.of())).toList(), snap.groups(), snap.tombstones(), snap.removedGroups(),
        snap.devices(), snap.pinsCompleteAfter(), snap.pinChanges());
    assertEquals(expected, back);
    AccountState restored = AccountState.fromSnapshot(back, f.state.limits());
    assertTrue(restored.sameAs(f.state), "state after fromSnapshot");
    SyncConvergenceProperties.checkIndexes(restored);
    AccountState twice = AccountState.fromSnapshot(SnapshotCodec.decode(SnapshotCodec.encode(restored.toSnapshot())), f.state.limits());
    assertTrue(twice.sameAs(f.state), "a restored state snapshots the same again");
  }

  @Example
  void anyJavaStringSurvives() {
    String odd = "lone \ud800 surrogate, NUL \u0000, emoji \uD83D\uDE00, cyrillic \u0436, \uffff";
    Session s = new Session(odd, "direct", odd, new LastMessage(3, odd, odd, 5), 1, List.of(2L, 3L), true, 9, new Draft(odd, 7),
        Box.ARCHIVE, List.of("g1", odd), 1, 2, Map.of(odd, 4L), 4, List.of());
    Tombstone t = new Tombstone("gone", 5, 7, 8, null, Map.of());
    Tombstone t2 = new Tombstone("gone2", 6, 7, 8, List.of("inbox"), Map.of("g1", 3L));
    AccountSnapshot snap = new AccountSnapshot(6, 2, List.of(s), List.of(Group.system(Box.INBOX, "Inbox", 0)), List.of(t, t2),
        List.of(new GroupTombstone("old", 1, 2)), List.of(new Device(odd, -1, Long.MAX_VALUE, Long.MIN_VALUE)),
        3, List.of(new PinHistory.Before(4, odd, 2, List.of(odd, "b")), new PinHistory.Before(5, Box.INBOX, 0, List.of())));
    assertEquals(snap, SnapshotCodec.decode(SnapshotCodec.encode(snap)));
  }

  @Example
  void snapshotsWithoutDevicesLoadWithNone() {
    AccountSnapshot old = new AccountSnapshot(0, 0, List.of(), List.of(), List.of(), List.of(), null, 0, null);
    assertEquals(List.of(), SnapshotCodec.decode(SnapshotCodec.encode(old)).devices());
  }

  @Example
  void corruptOrForeignBytesAreRefused() {
    StateFixture f = new StateFixture();
    for (int i = 1; i <= 50; i++) f.ingest(f.msg("s" + i, 1, "bob"));
    byte[] bytes = SnapshotCodec.encode(f.state.toSnapshot());
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length / 2);
    assertThrows(IllegalArgumentException.class, () -> SnapshotCodec.decode(truncated));
    byte[] otherFormat = bytes.clone();
    otherFormat[0] = 99;
    assertThrows(IllegalArgumentException.class, () -> SnapshotCodec.decode(otherFormat));
    byte[] flipped = bytes.clone();
    flipped[bytes.length / 2] ^= 0x5A;
    assertThrows(IllegalArgumentException.class, () -> SnapshotCodec.decode(flipped));
  }
}
