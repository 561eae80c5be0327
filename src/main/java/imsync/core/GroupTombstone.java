package imsync.core;

/** A deleted custom group, kept so deltas can name it in removed_groups. */
public record GroupTombstone(String groupId, long version, long removedAt) {}
