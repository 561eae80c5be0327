package imsync.core;

import java.util.Comparator;

/** A session's place in recency order: sort_key descending, ties by session_id ascending. */
public record SortEntry(long sortKey, String sessionId) implements Comparable<SortEntry> {

  static final Comparator<SortEntry> ORDER =
      Comparator.comparingLong(SortEntry::sortKey).reversed().thenComparing(SortEntry::sessionId);

  public static SortEntry of(Session s) {
    return new SortEntry(s.sortKey(), s.sessionId());
  }

  @Override
  public int compareTo(SortEntry o) {
    return ORDER.compare(this, o);
  }
}
