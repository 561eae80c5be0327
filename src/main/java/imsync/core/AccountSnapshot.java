package imsync.core;

import imsync.CborSerializable;
import java.util.List;

/**
 * Immutable copy of an {@link AccountState} for the snapshot store; indexes are rebuilt on load.
 * {@code pinChanges}: the {@link PinHistory} (complete after {@code pinsCompleteAfter}), oldest first;
 * null in snapshots written before it was kept. {@code incarnation}: see {@link AccountState#incarnation()}
 * (0: never erased).
 */
public record AccountSnapshot(long version, long prunedThrough, List<Session> sessions, List<Group> groups,
                              List<Tombstone> tombstones, List<GroupTombstone> removedGroups,
                              List<Device> devices, long pinsCompleteAfter, List<PinHistory.Before> pinChanges,
                              long incarnation) implements CborSerializable {

  /** A snapshot of an account never erased. */
  public AccountSnapshot(long version, long prunedThrough, List<Session> sessions, List<Group> groups,
                         List<Tombstone> tombstones, List<GroupTombstone> removedGroups, List<Device> devices,
                         long pinsCompleteAfter, List<PinHistory.Before> pinChanges) {
    this(version, prunedThrough, sessions, groups, tombstones, removedGroups, devices, pinsCompleteAfter, pinChanges, 0);
  }

  /** Without a pin history (it starts at the snapshot's version). */
  public AccountSnapshot(long version, long prunedThrough, List<Session> sessions, List<Group> groups,
                         List<Tombstone> tombstones, List<GroupTombstone> removedGroups, List<Device> devices, long incarnation) {
    this(version, prunedThrough, sessions, groups, tombstones, removedGroups, devices, version, null, incarnation);
  }

  /** A snapshot of an account never erased, without a pin history. */
  public AccountSnapshot(long version, long prunedThrough, List<Session> sessions, List<Group> groups,
                         List<Tombstone> tombstones, List<GroupTombstone> removedGroups, List<Device> devices) {
    this(version, prunedThrough, sessions, groups, tombstones, removedGroups, devices, 0L);
  }
}
