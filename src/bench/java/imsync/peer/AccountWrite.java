package imsync.peer;

import imsync.core.Box;
import imsync.core.ErrorCode;
import imsync.core.Group;
import imsync.core.IngestItem;
import imsync.core.LastMessage;
import imsync.core.Limits;
import imsync.core.Session;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import redis.clients.jedis.PipeliningBase;

/**
 * One write to one account: the part of its state the write needs (version, groups, the sessions it names),
 * as read from Redis, the change rules, and the Redis commands that store the outcome. The rules are imsync's
 * ({@code AccountState.decideIngest} and {@code apply}) built on the same {@link Session} methods, so both
 * servers agree session for session; only the storage differs.
 *
 * <p>Each accepted change takes the next version, and the changed session and every group whose aggregates
 * or pins change record it, as in imsync. Consequence the sync relies on: no two live or removed sessions
 * ever share a version, so a delta position is just a version number.
 */
final class AccountWrite {
  /** A removed session: its seq floor decides whether a message brings it back. */
  record Tomb(long lastSeq, long removedAt, long version) {
    String encode() {
      return lastSeq + ":" + removedAt + ":" + version;
    }

    static Tomb decode(String s) {
      String[] p = s.split(":");
      return new Tomb(Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2]));
    }
  }

  final String account;
  private final long storedVersion;
  private long version;
  private final boolean systemGroupsStored;
  /** As read; parsed only when a group is needed (a message touches two or three of them). */
  private final Map<String, String> groupJsons;
  private final Map<String, Group> groups = new HashMap<>();
  /** As read: an id absent from Redis maps to null. */
  private final Map<String, Session> stored;
  private final Map<String, Session> live;
  private final Map<String, Tomb> storedTombs;
  private final Map<String, Tomb> tombs;
  private final Set<String> changedSessions = new LinkedHashSet<>();
  private final Set<String> changedGroups = new LinkedHashSet<>();

  /**
   * @param groupJsons the groups hash as read (may lack the system groups: they exist implicitly)
   * @param sessions   every session id the write names, as stored (null: no such session)
   * @param tombstones the stored tombstone per session id the write names (null: none)
   */
  AccountWrite(String account, long version, Map<String, String> groupJsons, Map<String, Session> sessions,
               Map<String, Tomb> tombstones) {
    this.account = account;
    this.storedVersion = version;
    this.version = version;
    this.groupJsons = groupJsons;
    this.systemGroupsStored = groupJsons.containsKey(Box.INBOX) && groupJsons.containsKey(Box.ARCHIVE);
    this.stored = sessions;
    this.live = new HashMap<>(sessions);
    this.storedTombs = tombstones;
    this.tombs = new HashMap<>(tombstones);
  }

  long version() {
    return version;
  }

  boolean changed() {
    return version != storedVersion;
  }

  Session session(String sid) {
    return live.get(sid);
  }

  /** The group as it is now in this write; null when there is none. */
  Group group(String gid) {
    Group g = groups.get(gid);
    if (g == null) {
      String json = groupJsons.get(gid);
      if (json != null) g = PeerCodec.group(json);
      else if (Box.INBOX.equals(gid)) g = Group.system(Box.INBOX, "Inbox", 0); // exists before the first write stores it
      else if (Box.ARCHIVE.equals(gid)) g = Group.system(Box.ARCHIVE, "Archive", 1);
      if (g != null) groups.put(gid, g);
    }
    return g;
  }

  private List<Group> allGroups() {
    Set<String> ids = new TreeSet<>(groupJsons.keySet());
    ids.add(Box.INBOX);
    ids.add(Box.ARCHIVE);
    ids.addAll(groups.keySet());
    List<Group> all = new ArrayList<>(ids.size());
    for (String id : ids) all.add(group(id));
    return all;
  }

  /** System and custom groups, in the order clients show them (position, then id). */
  static List<Group> ordered(Iterable<Group> all) {
    List<Group> out = new ArrayList<>();
    all.forEach(out::add);
    out.sort((a, b) -> a.position() != b.position() ? Integer.compare(a.position(), b.position()) : a.groupId().compareTo(b.groupId()));
    return out;
  }

  // ---------------------------------------------------------------- ingest: imsync's decideIngest + apply

  /** Applies the items in order (a later one sees an earlier one's effect); returns {accepted, ignored}. */
  int[] ingest(List<IngestItem> items) {
    int accepted = 0;
    for (IngestItem item : items) {
      boolean ok;
      if (item instanceof IngestItem.Message m) ok = message(m);
      else if (item instanceof IngestItem.Update u) ok = update(u);
      else ok = remove((IngestItem.Removed) item);
      if (ok) accepted++;
    }
    return new int[] {accepted, items.size() - accepted};
  }

  private boolean message(IngestItem.Message m) {
    String sid = m.sessionId();
    Session old = live.get(sid);
    Tomb t = old == null ? tombs.get(sid) : null;
    long floor = old != null ? old.seqFloor() : t != null ? t.lastSeq() : 0;
    if (m.seq() <= floor) return false; // a replay or an older message: ignored
    boolean own = account.equals(m.senderId());
    boolean mentioned = !own && m.mentions() != null && m.mentions().contains(account);
    long v = ++version;
    if (old == null) tombs.remove(sid);
    Session s = Session.forMessage(old, sid, m.kind(), m.title(), m.seq(), m.ts(), t == null ? 0 : t.lastSeq());
    List<Long> mentions = s.mentions();
    if (mentioned && m.seq() > s.readSeq()) {
      mentions = new ArrayList<>(mentions);
      mentions.add(m.seq());
    }
    s = s.withLastMessage(new LastMessage(m.seq(), m.senderId(), m.preview(), m.ts()), mentions);
    if (own) {
      s = s.readUpTo(m.seq());
    } else if (Box.ARCHIVE.equals(s.box()) && s.mutedUntil() <= m.ts()) {
      s = s.withBox(Box.INBOX); // as in Telegram: an unmuted archived chat comes back on a new message
    }
    replace(old, s.withVersion(v), v);
    return true;
  }

  private boolean update(IngestItem.Update u) {
    String sid = u.sessionId();
    Session old = live.get(sid);
    Tomb t = old == null ? tombs.get(sid) : null;
    boolean recreate = old == null && (t == null || u.ts() > t.removedAt());
    boolean changes = old != null && Session.takesKindTitle(old.metaTs(), u.kind(), u.title(), u.ts())
        && ((u.kind() != null && !u.kind().equals(old.kind())) || (u.title() != null && !u.title().equals(old.title())));
    if (!recreate && !changes) return false;
    long v = ++version;
    if (old == null) tombs.remove(sid);
    Session s = Session.forUpdate(old, sid, u.kind(), u.title(), u.ts(), t == null ? 0 : t.lastSeq());
    replace(old, s.withVersion(v), v);
    return true;
  }

  private boolean remove(IngestItem.Removed r) {
    Session old = live.get(r.sessionId());
    // a removal older than the session's (re)creation is a retry of one already applied
    if (old == null || r.ts() < old.createdTs()) return false;
    long v = ++version;
    replace(old, null, v);
    tombs.put(r.sessionId(), new Tomb(old.seqFloor(), r.ts(), v));
    return true;
  }

  // ---------------------------------------------------------------- groups and boxes

  /** {@code gid} null: the server picks a free id. */
  Group createGroup(String gid, String name, Limits limits) {
    if (gid != null && Box.isBox(gid)) throw new PeerException(ErrorCode.INVALID_REQUEST, "group_id \"" + gid + "\" is reserved");
    List<Group> all = allGroups();
    if (gid != null && group(gid) != null) throw new PeerException(ErrorCode.CONFLICT, "group_id \"" + gid + "\" already exists");
    if (all.size() - 2 >= limits.maxCustomGroups()) {
      throw new PeerException(ErrorCode.LIMIT_EXCEEDED, "an account has at most " + limits.maxCustomGroups() + " custom groups");
    }
    String id = gid;
    for (int n = 1; id == null; n++) if (group("folder-" + n) == null) id = "folder-" + n;
    long position = 2;
    for (Group g : all) position = Math.max(position, g.position() + 1L);
    if (position > Integer.MAX_VALUE) throw new PeerException(ErrorCode.CONFLICT, "no position is left above the highest one in use");
    long v = ++version;
    Group g = Group.custom(id, name, (int) position, v);
    groups.put(id, g);
    changedGroups.add(id);
    return g;
  }

  /** Adds the sessions to a custom group, one change (version) per session not yet in it; returns how many. */
  int addMembers(String gid, List<String> sids) {
    Group g = group(gid);
    if (g == null) throw new PeerException(ErrorCode.NOT_FOUND, "group \"" + gid + "\" not found");
    if (g.isSystem()) throw new PeerException(ErrorCode.INVALID_REQUEST, "members of system group \"" + gid + "\" follow the session's box");
    for (String sid : sids) {
      if (live.get(sid) == null) throw new PeerException(ErrorCode.NOT_FOUND, "session \"" + sid + "\" not found");
    }
    int added = 0;
    for (String sid : sids) {
      Session s = live.get(sid);
      if (s.groups().contains(gid)) continue; // also skips an id named twice
      long v = ++version;
      List<String> withGroup = new ArrayList<>(s.groups());
      withGroup.add(gid);
      Collections.sort(withGroup);
      replace(s, s.withGroups(withGroup).withVersion(v), v);
      added++;
    }
    return added;
  }

  /** Sets the pinned list of any group; every id must be a member. Unchanged: no new version. */
  Group setPinned(String gid, List<String> ids, Limits limits) {
    Group g = group(gid);
    if (g == null) throw new PeerException(ErrorCode.NOT_FOUND, "group \"" + gid + "\" not found");
    if (new HashSet<>(ids).size() != ids.size()) throw new PeerException(ErrorCode.INVALID_REQUEST, "sessions must not repeat an id");
    if (ids.size() > limits.maxPinnedPerGroup()) {
      throw new PeerException(ErrorCode.LIMIT_EXCEEDED, "a group has at most " + limits.maxPinnedPerGroup() + " pinned sessions");
    }
    for (String sid : ids) {
      Session s = live.get(sid);
      if (s == null || !s.inGroup(gid)) {
        throw new PeerException(ErrorCode.INVALID_REQUEST, "sessions: \"" + sid + "\" is not a member of group \"" + gid + "\"");
      }
    }
    if (g.pinned().equals(ids)) return g;
    long v = ++version;
    Group neu = g.withPinned(ids, v);
    groups.put(gid, neu);
    changedGroups.add(gid);
    return neu;
  }

  /** Moves a session between inbox and archive (pins in the old box go). */
  Session moveBox(String sid, String box) {
    if (!Box.isBox(box)) throw new PeerException(ErrorCode.INVALID_REQUEST, "box must be \"inbox\" or \"archive\"");
    Session s = live.get(sid);
    if (s == null) throw new PeerException(ErrorCode.NOT_FOUND, "session \"" + sid + "\" not found");
    if (s.box().equals(box)) return s;
    long v = ++version;
    Session neu = s.withBox(box).withVersion(v);
    replace(s, neu, v);
    return neu;
  }

  // ---------------------------------------------------------------- bookkeeping, as imsync's replaceSession

  /**
   * Swaps one session's value (old or neu null for create/remove) and keeps the aggregates and pins of every
   * group it leaves, enters or stays in; a group whose aggregates change takes version v.
   */
  private void replace(Session old, Session neu, long v) {
    String id = old != null ? old.sessionId() : neu.sessionId();
    live.put(id, neu);
    changedSessions.add(id);
    Set<String> touched = new LinkedHashSet<>();
    if (old != null) touched.addAll(old.memberships());
    if (neu != null) touched.addAll(neu.memberships());
    for (String gid : touched) {
      Group g = group(gid);
      if (g == null) continue;
      boolean inOld = old != null && old.inGroup(gid);
      boolean inNew = neu != null && neu.inGroup(gid);
      int count = g.sessionCount() - (inOld ? 1 : 0) + (inNew ? 1 : 0);
      int unreadSessions = g.unreadSessions() - (inOld && old.isUnread() ? 1 : 0) + (inNew && neu.isUnread() ? 1 : 0);
      long unreadMessages = g.unreadMessages() - (inOld ? old.unreadCount() : 0) + (inNew ? neu.unreadCount() : 0);
      List<String> pinned = g.pinned();
      if (inOld && !inNew && pinned.contains(id)) {
        pinned = new ArrayList<>(pinned);
        pinned.remove(id);
      }
      if (count != g.sessionCount() || unreadSessions != g.unreadSessions() || unreadMessages != g.unreadMessages()
          || pinned != g.pinned()) {
        groups.put(gid, new Group(g.groupId(), g.kind(), g.name(), g.position(), pinned, count, unreadSessions, unreadMessages, v, g.rule()));
        changedGroups.add(gid);
      }
    }
  }

  /**
   * Queues the commands that store this write (inside the caller's MULTI: their own replies are QUEUED): each changed session's value, JSON
   * and index entries, tombstones, changed groups, and the version last.
   */
  void write(PipeliningBase t) {
    String a = account;
    for (String sid : changedSessions) {
      Session was = stored.get(sid);
      Session now = live.get(sid);
      if (now != null) {
        double score = -now.sortKey();
        t.hset(PeerKeys.session(a, sid), Map.of("d", PeerCodec.state(now), "j", PeerCodec.render(now)));
        t.zadd(PeerKeys.byVersion(a), now.version(), sid);
        t.zadd(PeerKeys.rank(a), score, sid);
        if (was != null) {
          for (String g : was.memberships()) if (!now.inGroup(g)) t.zrem(PeerKeys.group(a, g), sid);
        }
        for (String g : now.memberships()) t.zadd(PeerKeys.group(a, g), score, sid);
        if (storedTombs.get(sid) != null) {
          t.zrem(PeerKeys.removed(a), sid);
          t.hdel(PeerKeys.tombs(a), sid);
        }
      } else {
        Tomb tomb = tombs.get(sid); // removed by this write (maybe created by it too)
        Set<String> from = new LinkedHashSet<>(List.of(Box.INBOX, Box.ARCHIVE));
        if (was != null) from.addAll(was.memberships());
        t.del(PeerKeys.session(a, sid));
        t.zrem(PeerKeys.byVersion(a), sid);
        t.zrem(PeerKeys.rank(a), sid);
        for (String g : from) t.zrem(PeerKeys.group(a, g), sid);
        t.zadd(PeerKeys.removed(a), tomb.version(), sid);
        t.hset(PeerKeys.tombs(a), sid, tomb.encode());
      }
    }
    Set<String> groupIds = new LinkedHashSet<>(changedGroups);
    if (!systemGroupsStored) { // the first write makes the implicit system groups explicit
      groupIds.add(Box.INBOX);
      groupIds.add(Box.ARCHIVE);
    }
    for (String gid : groupIds) t.hset(PeerKeys.groups(a), gid, PeerCodec.render(group(gid)));
    t.set(PeerKeys.ver(a), Long.toString(version));
  }

}
