package imsync.core;

/**
 * A decoded sync cursor: how far a device got. Clients only ever see it encoded by {@link CursorCodec}.
 *
 * <p>{@code groupsVersion}: groups and group removals up to this version were delivered ({@code -1}: none
 * yet, so the next response carries every group and no removals).
 */
public sealed interface Cursor {
  int viewHash();

  long groupsVersion();

  /**
   * Paging a first sync that started at {@code snapshotVersion}: pinned ids from {@code pinnedOffset}
   * ({@link #PINNED_DONE} once they are through), then members in recency order after {@code walkAfter}.
   * Whatever changed after {@code snapshotVersion} comes from the version index once the walk ends.
   * {@code pinnedHash}: {@link SyncPlanner#pinnedHash} of the view's pinned ids when the run began; while they are
   * unchanged the walk skips them (they went out in the pinned phase). {@link #NO_PINNED_HASH}: unknown.
   */
  record First(int viewHash, long groupsVersion, long snapshotVersion, int pinnedOffset, SortEntry walkAfter,
               long pinnedHash) implements Cursor {}

  long NO_PINNED_HASH = 0;

  /**
   * Reading the version index after {@code after}. Caught up: {@code after = VersionKey.endOf(version)}.
   * {@code base}: the version the client held everything up to when this run of pages began; a session
   * that left a filtered view after it is named as removed (its key may have moved past {@code after}).
   */
  record Delta(int viewHash, long groupsVersion, VersionKey after, long base) implements Cursor {

    public static Delta caughtUp(int viewHash, long version) {
      return new Delta(viewHash, version, VersionKey.endOf(version), version);
    }
  }

  int PINNED_DONE = Integer.MAX_VALUE;
}
