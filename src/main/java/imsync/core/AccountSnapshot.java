package imsync.core;

import imsync.CborSerializable;
import java.util.List;

/** Immutable copy of an {@link AccountState} for the snapshot store; indexes are rebuilt on load. */
public record AccountSnapshot(long version, long prunedThrough, List<Session> sessions, List<Group> groups,
                              List<Tombstone> tombstones, List<GroupTombstone> removedGroups,
                              List<Device> devices) implements CborSerializable {}
