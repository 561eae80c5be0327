package imsync.core;

/**
 * A decoded sync cursor: how far a device got. Clients only ever see it encoded by {@link CursorCodec}.
 *
 * <p>{@code groupsVersion}: groups and group removals up to this version were delivered ({@code -1}: none
 * yet, so the next response carries every group and no removals). {@code groupsAfter}: null, or, when a
 * byte budget spread the groups over pages, the (version, group id) up to which the groups and group
 * removals after {@code groupsVersion} were delivered, in that order.
 */
public sealed interface Cursor {
  int viewHash();

  long groupsVersion();

  VersionKey groupsAfter();

  /** This cursor with other group progress. */
  Cursor withGroups(long groupsVersion, VersionKey groupsAfter);

  /**
   * Paging a first sync that started at {@code snapshotVersion}: pinned ids from {@code pinnedOffset}
   * ({@link #PINNED_DONE} once they are through), then members in recency order after {@code walkAfter}.
   * Whatever changed after {@code snapshotVersion} comes from the version index once the walk ends.
   * {@code pinnedHash}: {@link SyncPlanner#pinnedHash} of the view's pinned ids when the run began; while they are
   * unchanged the walk skips them (they went out in the pinned phase). {@link #NO_PINNED_HASH}: unknown.
   */
  record First(int viewHash, long groupsVersion, long snapshotVersion, int pinnedOffset, SortEntry walkAfter,
               long pinnedHash, VersionKey groupsAfter) implements Cursor {

    public First(int viewHash, long groupsVersion, long snapshotVersion, int pinnedOffset, SortEntry walkAfter, long pinnedHash) {
      this(viewHash, groupsVersion, snapshotVersion, pinnedOffset, walkAfter, pinnedHash, null);
    }

    @Override
    public First withGroups(long gv, VersionKey ga) {
      return new First(viewHash, gv, snapshotVersion, pinnedOffset, walkAfter, pinnedHash, ga);
    }
  }

  long NO_PINNED_HASH = 0;

  /**
   * Reading the version index after {@code after}. Caught up: {@code after = VersionKey.endOf(version)}.
   * {@code base}: the version the client held everything up to when this run of pages began; a session
   * that left a filtered view after it is named as removed (its key may have moved past {@code after}).
   */
  record Delta(int viewHash, long groupsVersion, VersionKey after, long base, VersionKey groupsAfter) implements Cursor {

    public Delta(int viewHash, long groupsVersion, VersionKey after, long base) {
      this(viewHash, groupsVersion, after, base, null);
    }

    @Override
    public Delta withGroups(long gv, VersionKey ga) {
      return new Delta(viewHash, gv, after, base, ga);
    }

    public static Delta caughtUp(int viewHash, long version) {
      return new Delta(viewHash, version, VersionKey.endOf(version), version);
    }
  }

  int PINNED_DONE = Integer.MAX_VALUE;
}
