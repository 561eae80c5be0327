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
   * Paging a first sync that started at {@code snapshotVersion}: the view's pinned ids as of that version
   * ({@link AccountState#pinnedAt}) from {@code pinnedOffset} ({@link #PINNED_DONE} once they are through),
   * then members in recency order after {@code walkAfter}, skipping those pinned ids: the pinned phase sent
   * them, or they changed after {@code snapshotVersion} and the version index sends them. Whatever changed
   * after {@code snapshotVersion} comes from the version index once the walk ends.
   *
   * <p>{@code legacyPinnedHash}: null, except in a cursor of a run begun before the pin history (formats
   * 1–3), which paged the pins as they were at each page; it is {@link SyncPlanner#pinnedHash} of them when
   * the run began ({@link #NO_PINNED_HASH}: unknown), and such a run ends under its old rule.
   */
  record First(int viewHash, long groupsVersion, long snapshotVersion, int pinnedOffset, SortEntry walkAfter,
               Long legacyPinnedHash, VersionKey groupsAfter) implements Cursor {

    public First(int viewHash, long groupsVersion, long snapshotVersion, int pinnedOffset, SortEntry walkAfter) {
      this(viewHash, groupsVersion, snapshotVersion, pinnedOffset, walkAfter, null, null);
    }

    /** This cursor further on: other progress, the same run. */
    public First at(long gv, int offset, SortEntry after) {
      return new First(viewHash, gv, snapshotVersion, offset, after, legacyPinnedHash, null);
    }

    @Override
    public First withGroups(long gv, VersionKey ga) {
      return new First(viewHash, gv, snapshotVersion, pinnedOffset, walkAfter, legacyPinnedHash, ga);
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
