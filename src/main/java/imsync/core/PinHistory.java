package imsync.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The last changes to the groups' pinned lists and positions, each as the group's pins and position just
 * before it: enough to tell which sessions were the view's pinned ones, in which order, at any version
 * since {@link #completeAfter()}. A paged first sync sends the pins as of the version it started at, and
 * its recency walk skips exactly those, however the pins change while it pages (issue 16).
 *
 * <p>Bounded: at most {@link #MAX_ENTRIES}; dropping the oldest raises {@link #completeAfter()}, and a
 * first-sync cursor from before that resets. A pin change is a user action, so a run of pages meets a
 * handful, and {@code MAX_ENTRIES} of them take a few kilobytes.
 */
public final class PinHistory {
  /** How many changes are kept. */
  public static final int MAX_ENTRIES = 128;

  /** Group {@code groupId} had {@code pinned} and {@code position} until the change at {@code version}. */
  public record Before(long version, String groupId, int position, List<String> pinned) {
    public Before {
      pinned = List.copyOf(pinned);
    }
  }

  /** Made on the first change: most accounts never pin anything, and an empty deque is ~100 B on each. */
  private ArrayDeque<Before> entries;
  /** Every change at a version above this one is in {@link #entries}. */
  private long completeAfter;

  public PinHistory(long completeAfter) {
    this.completeAfter = completeAfter;
  }

  /** A history restored from a snapshot: {@code entries} oldest first. */
  public PinHistory(long completeAfter, List<Before> entries) {
    this.completeAfter = completeAfter;
    if (!entries.isEmpty()) this.entries = new ArrayDeque<>(entries);
  }

  public long completeAfter() {
    return completeAfter;
  }

  /** Oldest first. */
  public List<Before> entries() {
    return entries == null ? List.of() : List.copyOf(entries);
  }

  /** Whether the pins as of {@code version} are known. */
  public boolean covers(long version) {
    return version >= completeAfter;
  }

  /** Notes that {@code before} (pins and position of a group) stopped being current at {@code version}. */
  void record(long version, Group before) {
    if (entries == null) entries = new ArrayDeque<>(4);
    entries.addLast(new Before(version, before.groupId(), before.position(), before.pinned()));
    while (entries.size() > MAX_ENTRIES) completeAfter = Math.max(completeAfter, entries.removeFirst().version());
  }

  /**
   * The view's pinned ids as they were at {@code version}: the view's groups in their order then
   * (position, id), each one's pinned ids in pinned order, each id once. {@code current} are the groups
   * now. O(groups + changes after {@code version}). Only for a covered version.
   */
  List<String> pinnedAt(long version, Collection<Group> current, View view) {
    if (!covers(version)) throw new IllegalArgumentException("pins at " + version + " are past the kept history");
    // the oldest change after the version holds the state at the version: walk back, the last put wins
    Map<String, Before> then = new HashMap<>();
    for (Iterator<Before> it = entries == null ? java.util.Collections.emptyIterator() : entries.descendingIterator(); it.hasNext(); ) {
      Before b = it.next();
      if (b.version() <= version) break;
      then.put(b.groupId(), b);
    }
    List<Before> groups = new ArrayList<>(then.values());
    for (Group g : current) {
      if (!then.containsKey(g.groupId())) groups.add(new Before(version, g.groupId(), g.position(), g.pinned()));
    }
    groups.sort(Comparator.comparingInt(Before::position).thenComparing(Before::groupId));
    Set<String> ids = new LinkedHashSet<>();
    for (Before b : groups) {
      if (view.containsGroup(b.groupId())) ids.addAll(b.pinned());
    }
    return new ArrayList<>(ids);
  }

  /** Same entries and horizon (tests compare replayed and snapshotted states). */
  boolean sameAs(PinHistory o) {
    return completeAfter == o.completeAfter && entries().equals(o.entries());
  }
}
