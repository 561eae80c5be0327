package imsync.core;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Computes one sync batch from an account's state and a cursor. Plain Java; reads the state, never
 * changes it.
 *
 * <p>A first sync sends the view's pinned sessions, then walks the view's mapping lists in recency order
 * (a k-way merge of the groups' trees), then continues into the version index from the version at which
 * it started, so anything that changed while it was paging arrives before {@code has_more} turns false.
 * A delta reads the tail of the version index after the cursor: O(k log n) for k changes, whatever the
 * size of the account.
 */
public final class SyncPlanner {

  private SyncPlanner() {}

  public static SyncResult plan(AccountState st, View view, Cursor cursor, int limit) {
    if (limit < 1) throw new IllegalArgumentException("limit must be at least 1");
    boolean reset = cursor != null && !usable(st, view, cursor);
    Cursor from = cursor == null || reset
        ? new Cursor.First(view.hash(), -1, st.version(), 0, null, pinnedHash(pinnedOfView(st, view)))
        : cursor;

    List<Group> groups = new ArrayList<>();
    List<String> removedGroups = new ArrayList<>();
    collectGroups(st, view, from.groupsVersion(), groups, removedGroups);

    Batch batch = new Batch(limit);
    Cursor next;
    if (from instanceof Cursor.First first) {
      next = walkFirst(st, view, first, batch);
    } else {
      next = readDelta(st, view, (Cursor.Delta) from, batch);
    }
    boolean hasMore = !(next instanceof Cursor.Delta d && d.after().equals(VersionKey.endOf(st.version())));
    return new SyncResult(next, hasMore, reset, st.version(), groups, removedGroups, batch.sessions, batch.removed);
  }

  /** A cursor from another view, from before the tombstone horizon, or from a newer history resets. */
  private static boolean usable(AccountState st, View view, Cursor c) {
    if (c.viewHash() != view.hash()) return false;
    if (c.groupsVersion() > st.version() || (c.groupsVersion() >= 0 && c.groupsVersion() < st.prunedThrough())) return false;
    long base = c instanceof Cursor.First f ? f.snapshotVersion() : ((Cursor.Delta) c).base();
    long at = c instanceof Cursor.First f ? f.snapshotVersion() : ((Cursor.Delta) c).after().version();
    return at <= st.version() && base <= at && base >= st.prunedThrough();
  }

  private static void collectGroups(AccountState st, View view, long since, List<Group> out, List<String> removed) {
    for (Group g : st.groupsInOrder()) {
      if (g.version() > since && view.containsGroup(g.groupId())) out.add(g);
    }
    if (since < 0) return; // a fresh client holds no groups to remove
    for (GroupTombstone t : st.removedGroups()) {
      if (t.version() > since && view.containsGroup(t.groupId())) removed.add(t.groupId());
    }
  }

  private static Cursor walkFirst(AccountState st, View view, Cursor.First c, Batch batch) {
    List<String> pinned = pinnedOfView(st, view); // O(pins): at most 10 per group
    int pinnedOffset = c.pinnedOffset();
    if (pinnedOffset != Cursor.PINNED_DONE) {
      for (; pinnedOffset < pinned.size(); pinnedOffset++) {
        if (batch.full()) {
          return new Cursor.First(c.viewHash(), st.version(), c.snapshotVersion(), pinnedOffset, null, c.pinnedHash());
        }
        Session s = st.session(pinned.get(pinnedOffset));
        if (s != null) batch.add(s);
      }
    }
    // The pinned phase sent these; the walk meets them again at their sort position. Skip them while the
    // pinned ids are the ones the run began with. If they changed mid-run, skip none: a pinned session may
    // then come twice, but a newly pinned one is never lost.
    Set<String> sentPinned = c.pinnedHash() != Cursor.NO_PINNED_HASH && c.pinnedHash() == pinnedHash(pinned)
        ? new HashSet<>(pinned)
        : Set.of();
    SortEntry position = c.walkAfter();
    Iterator<SortEntry> walk = mergedWalk(st, view, position);
    while (walk.hasNext()) {
      SortEntry next = walk.next();
      if (sentPinned.contains(next.sessionId()) || batch.has(next.sessionId())) {
        position = next;
        continue;
      }
      if (batch.full()) {
        return new Cursor.First(c.viewHash(), st.version(), c.snapshotVersion(), Cursor.PINNED_DONE, position, c.pinnedHash());
      }
      position = next;
      batch.add(st.session(position.sessionId()));
    }
    return readDelta(st, view, Cursor.Delta.caughtUp(c.viewHash(), c.snapshotVersion()), batch);
  }

  /**
   * A 64-bit FNV-1a hash of pinned ids in order, never {@link Cursor#NO_PINNED_HASH}: lets a first-sync
   * cursor tell, without carrying the ids, whether the view's pins are still the ones it sent.
   */
  public static long pinnedHash(List<String> pinned) {
    long h = 0xcbf29ce484222325L;
    for (String id : pinned) {
      for (int i = 0; i < id.length(); i++) {
        h ^= id.charAt(i);
        h *= 0x100000001b3L;
      }
      h ^= '\n';
      h *= 0x100000001b3L;
    }
    return h == Cursor.NO_PINNED_HASH ? 1 : h;
  }

  private static Cursor readDelta(AccountState st, View view, Cursor.Delta c, Batch batch) {
    VersionKey position = c.after();
    for (VersionKey key : st.changesAfter(position)) {
      if (batch.has(key.sessionId()) || !concerns(st, view, key.sessionId(), c.base())) {
        position = key; // already sent in this batch, or never part of this view since the cursor
        continue;
      }
      if (batch.full()) {
        return new Cursor.Delta(c.viewHash(), st.version(), position, c.base());
      }
      Session s = st.session(key.sessionId());
      if (s != null && view.contains(s)) batch.add(s);
      else batch.remove(key.sessionId()); // deleted, or left the view
      position = key;
    }
    return Cursor.Delta.caughtUp(c.viewHash(), st.version());
  }

  /**
   * Whether a changed session matters to a client of this view that held everything up to
   * {@code complete}: it is in the view now, or the client may still hold it (it left a view group, or was
   * removed from one, after that).
   */
  private static boolean concerns(AccountState st, View view, String sessionId, long complete) {
    if (view.isAll()) return true;
    Session s = st.session(sessionId);
    if (s != null) return view.contains(s) || s.leftAnyAfter(view.groupIds(), complete);
    Tombstone t = st.tombstone(sessionId);
    return t == null || t.concerns(view.groupIds(), complete);
  }

  /** Pinned ids of the view's groups, in group order then pinned order, each once. */
  static List<String> pinnedOfView(AccountState st, View view) {
    Set<String> ids = new LinkedHashSet<>();
    for (Group g : st.groupsInOrder()) {
      if (view.containsGroup(g.groupId())) ids.addAll(g.pinned());
    }
    return new ArrayList<>(ids);
  }

  /** Members of the view's groups in recency order after {@code after}; a session in several groups once. */
  private static Iterator<SortEntry> mergedWalk(AccountState st, View view, SortEntry after) {
    PriorityQueue<Head> heads = new PriorityQueue<>();
    for (String gid : view.memberGroups()) {
      MappingList list = st.mappingList(gid);
      if (list == null) continue;
      Iterator<SortEntry> it = list.after(after).iterator();
      if (it.hasNext()) heads.add(new Head(it.next(), it));
    }
    return new Iterator<>() {
      private SortEntry last;

      @Override
      public boolean hasNext() {
        skipRepeats();
        return !heads.isEmpty();
      }

      @Override
      public SortEntry next() {
        skipRepeats();
        Head h = heads.poll();
        last = h.entry;
        if (h.rest.hasNext()) heads.add(new Head(h.rest.next(), h.rest));
        return last;
      }

      private void skipRepeats() {
        while (!heads.isEmpty() && heads.peek().entry.equals(last)) {
          Head h = heads.poll();
          if (h.rest.hasNext()) heads.add(new Head(h.rest.next(), h.rest));
        }
      }
    };
  }

  private record Head(SortEntry entry, Iterator<SortEntry> rest) implements Comparable<Head> {
    @Override
    public int compareTo(Head o) {
      return entry.compareTo(o.entry);
    }
  }

  /** Collects one response's sessions; {@code limit} bounds sessions + removed. */
  private static final class Batch {
    final int limit;
    final List<Session> sessions = new ArrayList<>();
    final List<String> removed = new ArrayList<>();
    final Set<String> ids = new HashSet<>();

    Batch(int limit) {
      this.limit = limit;
    }

    boolean full() {
      return sessions.size() + removed.size() >= limit;
    }

    boolean has(String id) {
      return ids.contains(id);
    }

    void add(Session s) {
      if (ids.add(s.sessionId())) sessions.add(s);
    }

    void remove(String id) {
      if (ids.add(id)) removed.add(id);
    }
  }
}
