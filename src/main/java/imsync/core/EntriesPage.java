package imsync.core;

import java.util.List;

/** A page of a mapping list and where the next page starts (null when this was the last). */
public record EntriesPage(List<Entry> entries, Position next) {

  public record Entry(String sessionId, long sortKey, boolean pinned) {}

  /** Either an index into the pinned ids, or the last unpinned entry returned. */
  public record Position(int pinnedIndex, SortEntry after, boolean inPinned) {
    public static Position pinned(int index) {
      return new Position(index, null, true);
    }

    public static Position tail(SortEntry after) {
      return new Position(0, after, false);
    }
  }
}
