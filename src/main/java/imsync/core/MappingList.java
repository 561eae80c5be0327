package imsync.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * The ordered session ids of one group: its pinned ids (kept on the {@link Group}) first, then every
 * member in recency order. Members live in a balanced tree, so a move costs O(log n); pinned members are
 * also in the tree and are skipped when listing the unpinned tail.
 */
public final class MappingList {
  private final TreeSet<SortEntry> members = new TreeSet<>();

  void add(SortEntry e) {
    members.add(e);
  }

  /** Fills an empty list in one linear pass (see {@link SortedRun}). */
  void addAllSorted(SortedRun<SortEntry> entries) {
    if (!members.isEmpty()) throw new IllegalStateException("only an empty list is filled in bulk");
    members.addAll(entries);
  }

  void remove(SortEntry e) {
    members.remove(e);
  }

  public int size() {
    return members.size();
  }

  public boolean contains(SortEntry e) {
    return members.contains(e);
  }

  /** Members strictly after {@code after} in recency order (from the start when null); read-only view. */
  public NavigableSet<SortEntry> after(SortEntry after) {
    NavigableSet<SortEntry> view = after == null ? members : members.tailSet(after, false);
    return Collections.unmodifiableNavigableSet(view);
  }

  /** One page of the list as the entries endpoint shows it. */
  public EntriesPage page(List<String> pinned, EntriesPage.Position from, int limit, java.util.function.Function<String, Session> lookup) {
    List<EntriesPage.Entry> out = new ArrayList<>(Math.min(limit, 64));
    int pinIndex = from == null ? 0 : from.pinnedIndex();
    SortEntry tailAfter = from == null ? null : from.after();
    if (from == null || from.inPinned()) {
      for (; pinIndex < pinned.size() && out.size() < limit; pinIndex++) {
        Session s = lookup.apply(pinned.get(pinIndex));
        out.add(new EntriesPage.Entry(s.sessionId(), s.sortKey(), true));
      }
      if (out.size() == limit) {
        boolean more = pinIndex < pinned.size() || members.size() > pinned.size();
        return new EntriesPage(out, more ? EntriesPage.Position.pinned(pinIndex) : null);
      }
    }
    java.util.Set<String> pinnedSet = new java.util.HashSet<>(pinned);
    Iterator<SortEntry> it = after(tailAfter).iterator();
    SortEntry last = tailAfter;
    while (it.hasNext() && out.size() < limit) {
      SortEntry e = it.next();
      if (pinnedSet.contains(e.sessionId())) continue;
      out.add(new EntriesPage.Entry(e.sessionId(), e.sortKey(), false));
      last = e;
    }
    boolean more = false;
    while (it.hasNext()) {
      if (!pinnedSet.contains(it.next().sessionId())) {
        more = true;
        break;
      }
    }
    return new EntriesPage(out, more ? EntriesPage.Position.tail(last) : null);
  }
}
