package imsync.core;

import imsync.CborSerializable;
import java.util.List;

/**
 * Immutable copy of an {@link AccountState} for the snapshot store; indexes are rebuilt on load.
 * {@code pinChanges}: the {@link PinHistory} (complete after {@code pinsCompleteAfter}), oldest first;
 * null in snapshots written before it was kept.
 */
public record AccountSnapshot(long version, long prunedThrough, List<Session> sessions, List<Group> groups,
                              List<Tombstone> tombstones, List<GroupTombstone> removedGroups,
                              List<Device> devices, long pinsCompleteAfter, List<PinHistory.Before> pinChanges)
    implements CborSerializable {}
