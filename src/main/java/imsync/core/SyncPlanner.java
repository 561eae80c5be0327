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
 * <p>A first sync sends the view's pinned sessions as of the version it started at (the account's pin
 * history keeps them however pins change while it pages), then walks the view's mapping lists in recency order
 * (a k-way merge of the groups' trees), then continues into the version index from the version at which
 * it started, so anything that changed while it was paging arrives before {@code has_more} turns false.
 * A delta reads the tail of the version index after the cursor: O(k log n) for k changes, whatever the
 * size of the account.
 */
public final class SyncPlanner {

  private SyncPlanner() {}

  public static SyncResult plan(AccountState st, View view, Cursor cursor, int limit) {
    return plan(st, view, cursor, limit, 0, null);
  }

  /**
   * A batch of at most {@code limit} sessions and, when {@code maxBytes > 0}, whose answer as the writer
   * sends it ({@code sizes}) is at most {@code maxBytes} long, unless a single session (or group) alone does
   * not fit: then it goes alone. Groups come first; when they do not all fit they are spread over pages in
   * (version, group id) order, with the progress in the cursor ({@link Cursor#groupsAfter()}).
   *
   * <p>The cursor's length is only known once the page is planned: the page is planned with room for a
   * cursor of ordinary length and, in the rare case its cursor came out longer (a long id at its
   * position), planned again with room for the longest cursor there can be.
   */
  public static SyncResult plan(AccountState st, View view, Cursor cursor, int limit, int maxBytes, SizeModel sizes) {
    return plan(st, view, cursor, st.incarnation(), limit, maxBytes, sizes);
  }

  /**
   * As above, for a cursor issued in account incarnation {@code cursorIncarnation}: one of another
   * incarnation (issued before an erasure) resets, whatever its versions say.
   */
  public static SyncResult plan(AccountState st, View view, Cursor cursor, long cursorIncarnation, int limit, int maxBytes,
                                SizeModel sizes) {
    if (limit < 1) throw new IllegalArgumentException("limit must be at least 1");
    Cursor from = cursor;
    boolean otherLife = cursor != null && cursorIncarnation != st.incarnation();
    if (maxBytes <= 0) return planWithin(st, view, from, otherLife, limit, null);
    SyncResult r = planWithin(st, view, from, otherLife, limit, new Budget(maxBytes, sizes, CursorCodec.maxEncodedChars(32, 0)));
    if (bytes(r, sizes, st.incarnation()) <= maxBytes || entries(r) <= 1) return r;
    return planWithin(st, view, from, otherLife, limit, new Budget(maxBytes, sizes, CursorCodec.maxEncodedChars(128, 128)));
  }

  /** The answer's length as the writer sends it. */
  public static int bytes(SyncResult r, SizeModel sizes) {
    return bytes(r, sizes, 0);
  }

  /** The answer's length as the writer sends it, its cursor issued in account incarnation {@code incarnation}. */
  public static int bytes(SyncResult r, SizeModel sizes, long incarnation) {
    int n = sizes.envelopeBytes(r.version(), r.reset(), CursorCodec.encodedChars(r.cursor(), incarnation)) - (r.hasMore() ? 1 : 0);
    n += Math.max(0, r.groups().size() - 1) + Math.max(0, r.removedGroups().size() - 1)
        + Math.max(0, r.sessions().size() - 1) + Math.max(0, r.removedSessions().size() - 1);
    for (Group g : r.groups()) n += sizes.groupBytes(g);
    for (String id : r.removedGroups()) n += sizes.idBytes(id);
    for (Session s : r.sessions()) n += sizes.sessionBytes(s);
    for (String id : r.removedSessions()) n += sizes.idBytes(id);
    return n;
  }

  private static int entries(SyncResult r) {
    return r.groups().size() + r.removedGroups().size() + r.sessions().size() + r.removedSessions().size();
  }

  private static SyncResult planWithin(AccountState st, View view, Cursor cursor, boolean otherLife, int limit, Budget budget) {
    boolean reset = cursor != null && (otherLife || !usable(st, view, cursor));
    Cursor from = cursor == null || reset
        ? new Cursor.First(view.hash(), -1, st.version(), 0, null)
        : cursor;

    Batch batch = new Batch(limit, budget, budget == null ? 0 : budget.sizes.envelopeBytes(st.version(), reset, budget.cursorChars));
    VersionKey groupsAfter = collectGroups(st, view, from, batch);

    Cursor next;
    if (from instanceof Cursor.First first) {
      next = walkFirst(st, view, first, batch);
    } else {
      next = readDelta(st, view, (Cursor.Delta) from, batch);
    }
    boolean hasMore = groupsAfter != null || !(next instanceof Cursor.Delta d && d.after().equals(VersionKey.endOf(st.version())));
    if (groupsAfter != null) next = next.withGroups(from.groupsVersion(), groupsAfter);
    return new SyncResult(next, hasMore, reset, st.version(), batch.groups, batch.removedGroups, batch.sessions, batch.removed);
  }

  /** A cursor from another view, from before the tombstone horizon, or from a newer history resets. */
  private static boolean usable(AccountState st, View view, Cursor c) {
    if (c.viewHash() != view.hash()) return false;
    if (c.groupsVersion() > st.version() || (c.groupsVersion() >= 0 && c.groupsVersion() < st.prunedThrough())) return false;
    if (c.groupsAfter() != null && (c.groupsAfter().version() > st.version() || c.groupsAfter().version() <= c.groupsVersion())) return false;
    long base = c instanceof Cursor.First f ? f.snapshotVersion() : ((Cursor.Delta) c).base();
    long at = c instanceof Cursor.First f ? f.snapshotVersion() : ((Cursor.Delta) c).after().version();
    // a first sync needs the pins as of its start: past the kept pin history, it starts over
    if (c instanceof Cursor.First f && f.legacyPinnedHash() == null && f.snapshotVersion() < st.pinsKnownFrom()) return false;
    return at <= st.version() && base <= at && base >= st.prunedThrough();
  }

  /**
   * Puts the groups and group removals the client has not had into the batch. Returns null when they are
   * all in, else the (version, group id) up to which they are: under a byte budget that cannot hold them
   * all, they go in that order, as many as fit (at least one), and the rest on the next pages.
   */
  private static VersionKey collectGroups(AccountState st, View view, Cursor from, Batch batch) {
    long since = from.groupsVersion();
    VersionKey after = from.groupsAfter();
    List<Group> groups = new ArrayList<>();
    List<GroupTombstone> removed = new ArrayList<>();
    for (Group g : st.groupsInOrder()) {
      if (g.version() > since && view.containsGroup(g.groupId()) && (after == null || key(g).compareTo(after) > 0)) groups.add(g);
    }
    // a fresh client holds no groups to remove, unless it got some on earlier pages of this run
    if (since >= 0 || after != null) {
      for (GroupTombstone t : st.removedGroups()) {
        if (t.version() > since && view.containsGroup(t.groupId()) && (after == null || key(t).compareTo(after) > 0)) removed.add(t);
      }
    }
    if (batch.budget == null || batch.fitsGroups(groups, removed)) {
      for (Group g : groups) batch.addGroup(g);
      for (GroupTombstone t : removed) batch.addRemovedGroup(t.groupId());
      return null;
    }
    List<Object> pending = new ArrayList<>(groups);
    pending.addAll(removed);
    pending.sort((a, b) -> key(a).compareTo(key(b)));
    VersionKey last = null;
    for (Object o : pending) {
      if (o instanceof Group g) {
        if (!batch.fitsGroup(g)) return last;
        batch.addGroup(g);
      } else {
        GroupTombstone t = (GroupTombstone) o;
        if (!batch.fitsRemovedGroup(t.groupId())) return last;
        batch.addRemovedGroup(t.groupId());
      }
      last = key(o);
    }
    return null;
  }

  private static VersionKey key(Object groupOrTombstone) {
    return groupOrTombstone instanceof Group g
        ? new VersionKey(g.version(), g.groupId())
        : new VersionKey(((GroupTombstone) groupOrTombstone).version(), ((GroupTombstone) groupOrTombstone).groupId());
  }

  private static Cursor walkFirst(AccountState st, View view, Cursor.First c, Batch batch) {
    List<String> pinned;
    Set<String> skipped;
    if (c.legacyPinnedHash() == null) {
      // The pins as of the run's start, the same on every page whatever changes meanwhile (O(groups +
      // pin changes since)). The walk skips all of them: each one either went out in the pinned phase
      // (unchanged, so still in the view) or changed after the start, and then the version index sends it.
      // A session pinned after the start is not among them: the walk sends it at its place.
      pinned = st.pinnedAt(c.snapshotVersion(), view);
      skipped = new HashSet<>(pinned);
    } else {
      // A run begun before the pin history ends under its old rule: the pins as they are at each page,
      // skipped by the walk only while they hash as when the run began (else a pinned one may come twice).
      pinned = pinnedOfView(st, view);
      skipped = c.legacyPinnedHash() != Cursor.NO_PINNED_HASH && c.legacyPinnedHash() == pinnedHash(pinned)
          ? new HashSet<>(pinned)
          : Set.of();
    }
    int pinnedOffset = c.pinnedOffset();
    if (pinnedOffset != Cursor.PINNED_DONE) {
      for (; pinnedOffset < pinned.size(); pinnedOffset++) {
        if (batch.full()) return c.at(st.version(), pinnedOffset, null);
        Session s = st.session(pinned.get(pinnedOffset));
        if (s != null && view.contains(s)) { // else it changed since the start: the version index tells
          if (!batch.fits(s)) return c.at(st.version(), pinnedOffset, null);
          batch.add(s);
        }
      }
    }
    SortEntry position = c.walkAfter();
    Iterator<SortEntry> walk = mergedWalk(st, view, position);
    while (walk.hasNext()) {
      SortEntry next = walk.next();
      if (skipped.contains(next.sessionId()) || batch.has(next.sessionId())) {
        position = next;
        continue;
      }
      if (batch.full()) return c.at(st.version(), Cursor.PINNED_DONE, position);
      Session s = st.session(next.sessionId());
      if (!batch.fits(s)) return c.at(st.version(), Cursor.PINNED_DONE, position);
      position = next;
      batch.add(s);
    }
    return readDelta(st, view, Cursor.Delta.caughtUp(c.viewHash(), c.snapshotVersion()), batch);
  }

  /**
   * A 64-bit FNV-1a hash of pinned ids in order, never {@link Cursor#NO_PINNED_HASH}: how cursors of
   * formats 2 and 3 told whether the view's pins were still the ones they sent ({@link Cursor.First#legacyPinnedHash}).
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
      boolean upsert = s != null && view.contains(s); // else deleted, or left the view
      if (upsert ? !batch.fits(s) : !batch.fitsRemoved(key.sessionId())) {
        return new Cursor.Delta(c.viewHash(), st.version(), position, c.base());
      }
      if (upsert) batch.add(s);
      else batch.remove(key.sessionId());
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

  /** A byte budget: {@code cursorChars} is the room kept for the cursor. */
  private record Budget(int maxBytes, SizeModel sizes, int cursorChars) {}

  /**
   * Collects one response; {@code limit} bounds sessions + removed. Under a budget it counts the answer's
   * bytes as it grows (envelope, entries, commas), and anything fits into a page that is still empty.
   */
  private static final class Batch {
    final int limit;
    final Budget budget;
    final List<Group> groups = new ArrayList<>();
    final List<String> removedGroups = new ArrayList<>();
    final List<Session> sessions = new ArrayList<>();
    final List<String> removed = new ArrayList<>();
    final Set<String> ids = new HashSet<>();
    int bytes;

    Batch(int limit, Budget budget, int envelopeBytes) {
      this.limit = limit;
      this.budget = budget;
      this.bytes = envelopeBytes;
    }

    private boolean empty() {
      return groups.isEmpty() && removedGroups.isEmpty() && sessions.isEmpty() && removed.isEmpty();
    }

    private boolean fits(int entryBytes, int inArray) {
      return budget == null || empty() || bytes + entryBytes + (inArray > 0 ? 1 : 0) <= budget.maxBytes;
    }

    boolean fits(Session s) {
      return budget == null || fits(budget.sizes.sessionBytes(s), sessions.size());
    }

    boolean fitsRemoved(String id) {
      return budget == null || fits(budget.sizes.idBytes(id), removed.size());
    }

    boolean fitsGroup(Group g) {
      return budget == null || fits(budget.sizes.groupBytes(g), groups.size());
    }

    boolean fitsRemovedGroup(String id) {
      return budget == null || fits(budget.sizes.idBytes(id), removedGroups.size());
    }

    /** Whether all of these fit at once (into an empty page). */
    boolean fitsGroups(List<Group> gs, List<GroupTombstone> ts) {
      int n = bytes + Math.max(0, gs.size() - 1) + Math.max(0, ts.size() - 1);
      for (Group g : gs) n += budget.sizes.groupBytes(g);
      for (GroupTombstone t : ts) n += budget.sizes.idBytes(t.groupId());
      return n <= budget.maxBytes;
    }

    private void count(int entryBytes, int inArray) {
      if (budget != null) bytes += entryBytes + (inArray > 0 ? 1 : 0);
    }

    void addGroup(Group g) {
      if (budget != null) count(budget.sizes.groupBytes(g), groups.size());
      groups.add(g);
    }

    void addRemovedGroup(String id) {
      if (budget != null) count(budget.sizes.idBytes(id), removedGroups.size());
      removedGroups.add(id);
    }

    boolean full() {
      return sessions.size() + removed.size() >= limit;
    }

    boolean has(String id) {
      return ids.contains(id);
    }

    void add(Session s) {
      if (!ids.add(s.sessionId())) return;
      if (budget != null) count(budget.sizes.sessionBytes(s), sessions.size());
      sessions.add(s);
    }

    void remove(String id) {
      if (!ids.add(id)) return;
      if (budget != null) count(budget.sizes.idBytes(id), removed.size());
      removed.add(id);
    }
  }
}
