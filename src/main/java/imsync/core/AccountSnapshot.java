package imsync.core;

import imsync.CborSerializable;
import java.util.List;

/**
 * Immutable copy of an {@link AccountState} for the snapshot store; indexes are rebuilt on load.
 * {@code incarnation}: see {@link AccountState#incarnation()} (0: never erased).
 */
public record AccountSnapshot(long version, long prunedThrough, List<Session> sessions, List<Group> groups,
                              List<Tombstone> tombstones, List<GroupTombstone> removedGroups,
                              List<Device> devices, long incarnation) implements CborSerializable {

  /** A snapshot of an account never erased. */
  public AccountSnapshot(long version, long prunedThrough, List<Session> sessions, List<Group> groups,
                         List<Tombstone> tombstones, List<GroupTombstone> removedGroups, List<Device> devices) {
    this(version, prunedThrough, sessions, groups, tombstones, removedGroups, devices, 0);
  }
}
