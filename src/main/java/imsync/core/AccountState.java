package imsync.core;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The whole state of one account: session list, groups with their mapping lists and aggregates, the
 * version index and tombstones. Plain Java, no Akka.
 *
 * <p>It is mutable on purpose: an event touches O(groups of the session) entries, each in O(log n), and
 * copying a 100,000-session state per event would cost far more. Only {@link #apply} mutates it; what it
 * hands out (sessions, groups, read-only views) is immutable or unmodifiable, so nothing can leak a
 * mutable reference. The {@code decide*} methods never mutate.
 */
public final class AccountState {
  private final Limits limits;
  /**
   * Which life of the account this is: 0 until its first erasure, then the journal sequence number of the
   * latest {@link AccountEvent.Erased}. Cursors carry it, so a cursor of an erased life always resets.
   */
  private long incarnation;
  private long version;
  /** Highest version of a tombstone dropped by retention: a cursor below it cannot be served a delta. */
  private long prunedThrough;

  private final Map<String, Session> sessions = new HashMap<>(4);
  // Collections most accounts never use start as a shared empty one and are made on their first write
  // (see the *ForWrite methods): most accounts are small, and five empty maps are 250 B on each of them.
  private Map<String, Tombstone> tombstones = NO_TOMBSTONES;
  private final TreeMap<String, Group> groups = new TreeMap<>();
  private final Map<String, MappingList> lists = new HashMap<>(4);
  private TreeMap<String, GroupTombstone> removedGroups = NO_REMOVED_GROUPS;
  private TreeMap<String, Device> devices = NO_DEVICES;
  /** Every live or removed session by the version of its last change: deltas read a tail of it. */
  private final TreeSet<VersionKey> changes = new TreeSet<>();
  /** Tombstones oldest first, for retention. */
  private TreeSet<VersionKey> tombstoneOrder = NO_TOMBSTONE_ORDER;
  /** The rules of the smart folders by id: evaluated on every changed session (O(smart folders)). */
  private TreeMap<String, SmartRule> smartRules = NO_SMART_RULES;

  // never written: the *ForWrite methods replace them before a first write
  private static final Map<String, Tombstone> NO_TOMBSTONES = new HashMap<>(0);
  private static final TreeMap<String, GroupTombstone> NO_REMOVED_GROUPS = new TreeMap<>();
  private static final TreeMap<String, Device> NO_DEVICES = new TreeMap<>();
  private static final TreeSet<VersionKey> NO_TOMBSTONE_ORDER = new TreeSet<>();
  private static final TreeMap<String, SmartRule> NO_SMART_RULES = new TreeMap<>();

  private Map<String, Tombstone> tombstonesForWrite() {
    if (tombstones == NO_TOMBSTONES) tombstones = new HashMap<>(4);
    return tombstones;
  }

  private TreeMap<String, GroupTombstone> removedGroupsForWrite() {
    if (removedGroups == NO_REMOVED_GROUPS) removedGroups = new TreeMap<>();
    return removedGroups;
  }

  private TreeMap<String, Device> devicesForWrite() {
    if (devices == NO_DEVICES) devices = new TreeMap<>();
    return devices;
  }

  private TreeSet<VersionKey> tombstoneOrderForWrite() {
    if (tombstoneOrder == NO_TOMBSTONE_ORDER) tombstoneOrder = new TreeSet<>();
    return tombstoneOrder;
  }

  private TreeMap<String, SmartRule> smartRulesForWrite() {
    if (smartRules == NO_SMART_RULES) smartRules = new TreeMap<>();
    return smartRules;
  }
  /** Bucket digests of every live session, for verify (see {@link SessionDigests}). */
  private final SessionDigests digests = new SessionDigests();
  /** Recent changes to pins and group positions: which sessions a first sync's pinned phase sends. */
  private PinHistory pins = new PinHistory(0);

  /** See {@link #template}: never mutated, so every recovery can start from it. */
  private final boolean template;

  public AccountState(Limits limits) {
    this(limits, false);
  }

  /**
   * The empty state an entity starts each recovery from. Akka evaluates the empty state once per entity
   * and reuses that object when it restarts the entity after a failed write or recovery; a mutable state
   * would then replay events on top of what it already held. A template is never mutated: the first
   * event is applied to a fresh state instead.
   */
  public static AccountState template(Limits limits) {
    // one per limits for the whole JVM: a template per entity was a second empty state on every account's heap
    return TEMPLATES.computeIfAbsent(limits, l -> new AccountState(l, true));
  }

  private static final java.util.concurrent.ConcurrentHashMap<Limits, AccountState> TEMPLATES =
      new java.util.concurrent.ConcurrentHashMap<>();

  public boolean isTemplate() {
    return template;
  }

  /** The account after an erasure: empty, in a new incarnation. It replaces the state: nothing carries over. */
  public static AccountState erased(Limits limits, AccountEvent.Erased erased) {
    AccountState st = new AccountState(limits, false);
    st.incarnation = erased.incarnation();
    return st;
  }

  private AccountState(Limits limits, boolean template) {
    this.limits = limits;
    this.template = template;
    groups.put(Box.INBOX, Group.system(Box.INBOX, "Inbox", 0));
    groups.put(Box.ARCHIVE, Group.system(Box.ARCHIVE, "Archive", 1));
    lists.put(Box.INBOX, new MappingList());
    lists.put(Box.ARCHIVE, new MappingList());
  }

  // ---------------------------------------------------------------- reads

  public long version() {
    return version;
  }

  public long incarnation() {
    return incarnation;
  }

  public long prunedThrough() {
    return prunedThrough;
  }

  public Limits limits() {
    return limits;
  }

  public Session session(String id) {
    return sessions.get(id);
  }

  public Tombstone tombstone(String id) {
    return tombstones.get(id);
  }

  public int sessionCount() {
    return sessions.size();
  }

  /** Removed sessions' tombstones; read-only. */
  public Collection<Tombstone> tombstones() {
    return Collections.unmodifiableCollection(tombstones.values());
  }

  public int tombstoneCount() {
    return tombstones.size();
  }

  public Group group(String id) {
    return groups.get(id);
  }

  public int groupCount() {
    return groups.size();
  }

  /** Groups in the order clients show them: position, then id. */
  public List<Group> groupsInOrder() {
    List<Group> all = new ArrayList<>(groups.values());
    all.sort((a, b) -> a.position() != b.position() ? Integer.compare(a.position(), b.position()) : a.groupId().compareTo(b.groupId()));
    return all;
  }

  public Collection<GroupTombstone> removedGroups() {
    return Collections.unmodifiableCollection(removedGroups.values());
  }

  public Device device(String id) {
    return devices.get(id);
  }

  /** Devices by id; read-only. */
  public Collection<Device> devices() {
    return Collections.unmodifiableCollection(devices.values());
  }

  /**
   * The view's pinned ids as of {@code version}, in the order {@code SyncPlanner.pinnedOfView} gave then, or null
   * when that is older than the kept pin history.
   */
  public List<String> pinnedAt(long version, View view) {
    if (version > this.version || !pins.covers(version)) return null;
    return pins.pinnedAt(version, groups.values(), view);
  }

  /** The version from which {@link #pinnedAt} answers. */
  public long pinsKnownFrom() {
    return pins.completeAfter();
  }

  public MappingList mappingList(String groupId) {
    return lists.get(groupId);
  }

  /** Every live session; read-only (verify scans it when a bucket must be listed). */
  public Collection<Session> sessions() {
    return Collections.unmodifiableCollection(sessions.values());
  }

  /** Whole-account digests of N buckets, or null when N is finer than kept (then scan; see SessionDigests). */
  public long[] accountDigests(int n) {
    return digests.fold(n);
  }

  /** Version-index entries strictly after {@code after}, oldest first; read-only. */
  public NavigableSet<VersionKey> changesAfter(VersionKey after) {
    return Collections.unmodifiableNavigableSet(changes.tailSet(after, false));
  }

  // ---------------------------------------------------------------- decisions (never mutate)

  public Decision decideRead(String sid, long seq, long now) {
    Session s = sessions.get(sid);
    if (s == null) return unknownSession(sid);
    return s.readUpTo(seq).equals(s) ? Decision.UNCHANGED : new Decision.Accept(new AccountEvent.ReadMarked(sid, seq, now));
  }

  public Decision decideMarkUnread(String sid, long now) {
    Session s = sessions.get(sid);
    if (s == null) return unknownSession(sid);
    return s.markedUnread() ? Decision.UNCHANGED : new Decision.Accept(new AccountEvent.MarkedUnread(sid, now));
  }

  public Decision decideDraft(String sid, String text, long now) {
    Session s = sessions.get(sid);
    if (s == null) return unknownSession(sid);
    String current = s.draft() == null ? "" : s.draft().text();
    return current.equals(text) ? Decision.UNCHANGED : new Decision.Accept(new AccountEvent.DraftSet(sid, text, now));
  }

  public Decision decideMute(String sid, long until, long now) {
    Session s = sessions.get(sid);
    if (s == null) return unknownSession(sid);
    return s.mutedUntil() == until ? Decision.UNCHANGED : new Decision.Accept(new AccountEvent.MuteSet(sid, until, now));
  }

  public Decision decideBox(String sid, String box, long now) {
    if (!Box.isBox(box)) return Decision.invalid("box must be \"inbox\" or \"archive\"");
    Session s = sessions.get(sid);
    if (s == null) return unknownSession(sid);
    return s.box().equals(box) ? Decision.UNCHANGED : new Decision.Accept(new AccountEvent.BoxSet(sid, box, now));
  }

  public Decision decideDeleteSession(String sid, long now) {
    if (!sessions.containsKey(sid)) return unknownSession(sid);
    return new Decision.Accept(new AccountEvent.SessionRemoved(sid, now));
  }

  /** {@code groupId} null: the server picks a free id. */
  public Decision decideCreateGroup(String groupId, String name, long now) {
    return decideCreateGroup(groupId, name, null, now);
  }

  /** {@code rule} non-null: a smart folder (same id, position and count rules as a custom group). */
  public Decision decideCreateGroup(String groupId, String name, SmartRule rule, long now) {
    if (groupId != null && Box.isBox(groupId)) return Decision.invalid("group_id \"" + groupId + "\" is reserved");
    if (groupId != null && groups.containsKey(groupId)) {
      return new Decision.Reject(ErrorCode.CONFLICT, "group_id \"" + groupId + "\" already exists");
    }
    if (groups.size() - 2 >= limits.maxCustomGroups()) {
      return new Decision.Reject(ErrorCode.LIMIT_EXCEEDED, "an account has at most " + limits.maxCustomGroups() + " custom groups");
    }
    String id = groupId != null ? groupId : freeGroupId();
    long position = 2;
    for (Group g : groups.values()) position = Math.max(position, g.position() + 1L);
    if (position > Integer.MAX_VALUE) {
      return new Decision.Reject(ErrorCode.CONFLICT, "no position is left above the highest one in use; lower a group's position first");
    }
    return new Decision.Accept(rule == null
        ? new AccountEvent.GroupCreated(id, name, (int) position, now)
        : new AccountEvent.SmartGroupCreated(id, name, (int) position, rule, now));
  }

  /** name or position null: unchanged. */
  public Decision decidePatchGroup(String groupId, String name, Integer position, long now) {
    return decidePatchGroup(groupId, name, position, null, now);
  }

  /** name, position or rule null: unchanged; a rule only for a smart folder. */
  public Decision decidePatchGroup(String groupId, String name, Integer position, SmartRule rule, long now) {
    Group g = groups.get(groupId);
    if (g == null) return unknownGroup(groupId);
    if (g.isSystem()) return Decision.invalid("system group \"" + groupId + "\" cannot be renamed or reordered");
    if (rule != null && !g.isSmart()) return Decision.invalid("rule: group \"" + groupId + "\" is not a smart folder");
    String n = name == null ? g.name() : name;
    int p = position == null ? g.position() : position;
    List<AccountEvent> events = new ArrayList<>(2);
    if (!n.equals(g.name()) || p != g.position()) events.add(new AccountEvent.GroupPatched(groupId, n, p, now));
    if (rule != null && !rule.equals(g.rule())) events.add(new AccountEvent.SmartRuleSet(groupId, rule, now));
    return events.isEmpty() ? Decision.UNCHANGED : new Decision.Accept(events);
  }

  public Decision decideDeleteGroup(String groupId, long now) {
    Group g = groups.get(groupId);
    if (g == null) return unknownGroup(groupId);
    if (g.isSystem()) return Decision.invalid("system group \"" + groupId + "\" cannot be deleted");
    return new Decision.Accept(new AccountEvent.GroupDeleted(groupId, now));
  }

  public Decision decideAddMember(String groupId, String sid, long now) {
    Group g = groups.get(groupId);
    if (g == null) return unknownGroup(groupId);
    if (g.isSystem()) return Decision.invalid("members of system group \"" + groupId + "\" follow the session's box");
    if (g.isSmart()) return smartMembers(groupId);
    Session s = sessions.get(sid);
    if (s == null) return unknownSession(sid);
    if (s.groups().contains(groupId)) return Decision.UNCHANGED;
    return new Decision.Accept(new AccountEvent.MemberAdded(groupId, sid, now));
  }

  /**
   * Adds many sessions to a custom group in one action (one journal write): every id must be a session;
   * ids already in the group, or repeated, are skipped.
   */
  public Decision decideAddMembers(String groupId, List<String> sids, long now) {
    Group g = groups.get(groupId);
    if (g == null) return unknownGroup(groupId);
    if (g.isSystem()) return Decision.invalid("members of system group \"" + groupId + "\" follow the session's box");
    if (g.isSmart()) return smartMembers(groupId);
    Set<String> seen = new HashSet<>();
    List<AccountEvent> events = new ArrayList<>();
    for (String sid : sids) {
      Session s = sessions.get(sid);
      if (s == null) return unknownSession(sid);
      if (seen.add(sid) && !s.groups().contains(groupId)) events.add(new AccountEvent.MemberAdded(groupId, sid, now));
    }
    return events.isEmpty() ? Decision.UNCHANGED : new Decision.Accept(events);
  }

  public Decision decideRemoveMember(String groupId, String sid, long now) {
    Group g = groups.get(groupId);
    if (g == null) return unknownGroup(groupId);
    if (g.isSystem()) return Decision.invalid("members of system group \"" + groupId + "\" follow the session's box");
    if (g.isSmart()) return smartMembers(groupId);
    Session s = sessions.get(sid);
    if (s == null) return unknownSession(sid);
    if (!s.groups().contains(groupId)) return Decision.notFound("session \"" + sid + "\" is not in group \"" + groupId + "\"");
    return new Decision.Accept(new AccountEvent.MemberRemoved(groupId, sid, now));
  }

  public Decision decideSetPinned(String groupId, List<String> ids, long now) {
    Group g = groups.get(groupId);
    if (g == null) return unknownGroup(groupId);
    if (g.isSmart()) return Decision.invalid("smart folder \"" + groupId + "\" has no pinned sessions");
    if (new HashSet<>(ids).size() != ids.size()) return Decision.invalid("sessions must not repeat an id");
    if (ids.size() > limits.maxPinnedPerGroup()) {
      return new Decision.Reject(ErrorCode.LIMIT_EXCEEDED, "a group has at most " + limits.maxPinnedPerGroup() + " pinned sessions");
    }
    for (String sid : ids) {
      Session s = sessions.get(sid);
      if (s == null || !s.inGroup(groupId)) {
        return Decision.invalid("sessions: \"" + sid + "\" is not a member of group \"" + groupId + "\"");
      }
    }
    if (g.pinned().equals(ids)) return Decision.UNCHANGED;
    return new Decision.Accept(new AccountEvent.PinnedSet(groupId, List.copyOf(ids), now));
  }

  /** The events of one ingest call for this account, and how many deliveries changed nothing. */
  public record IngestDecision(List<AccountEvent> events, int ignored) {}

  /**
   * Decides a batch in order, as if each accepted event were already applied: a later event of the batch
   * sees the effect of an earlier one, so a batch that repeats itself counts the repeats as ignored.
   */
  public IngestDecision decideIngest(String accountId, List<IngestItem> items) {
    Map<String, Probe> overlay = new HashMap<>();
    List<AccountEvent> events = new ArrayList<>(items.size());
    int ignored = 0;
    for (IngestItem item : items) {
      Probe p = overlay.computeIfAbsent(item.sessionId(), this::probe);
      AccountEvent e = null;
      if (item instanceof IngestItem.Message m) {
        if (m.seq() > (p.live ? p.floor : p.tombFloor)) {
          e = new AccountEvent.MessageIngested(m.sessionId(), m.kind(), m.title(), m.seq(), m.senderId(), m.preview(), m.ts(),
              accountId.equals(m.senderId()), m.mentions() != null && m.mentions().contains(accountId) && !accountId.equals(m.senderId()));
          // a new session takes the message's kind/title; a live one by Session.withKindTitle's rule
          boolean meta = !p.live || Session.takesKindTitle(p.metaTs, m.kind(), m.title(), m.ts());
          overlay.put(m.sessionId(), new Probe(true, m.seq(),
              meta ? orElse(m.kind(), p.live ? p.kind : "direct") : p.kind, meta ? orElse(m.title(), p.live ? p.title : "") : p.title,
              p.live ? p.createdTs : m.ts(), meta ? m.ts() : p.metaTs, p.tombFloor, p.tombAt));
        }
      } else if (item instanceof IngestItem.Update u) {
        boolean recreate = !p.live && (p.tombAt < 0 || u.ts() > p.tombAt);
        // the latest event time wins for kind and title: a retried older update changes nothing
        boolean changes = p.live && Session.takesKindTitle(p.metaTs, u.kind(), u.title(), u.ts())
            && ((u.kind() != null && !u.kind().equals(p.kind)) || (u.title() != null && !u.title().equals(p.title)));
        if (recreate || changes) {
          e = new AccountEvent.SessionUpdated(u.sessionId(), u.kind(), u.title(), u.ts());
          overlay.put(u.sessionId(), new Probe(true, p.live ? p.floor : p.tombFloor, orElse(u.kind(), p.live ? p.kind : "direct"),
              orElse(u.title(), p.live ? p.title : ""), p.live ? p.createdTs : u.ts(), u.ts(), p.tombFloor, p.tombAt));
        }
      } else if (item instanceof IngestItem.Removed r) {
        // a removal older than the session's (re)creation is a retry of one already applied
        if (p.live && r.ts() >= p.createdTs) {
          e = new AccountEvent.SessionRemoved(r.sessionId(), r.ts());
          overlay.put(r.sessionId(), new Probe(false, 0, null, null, 0, 0, p.floor, r.ts()));
        }
      }
      if (e == null) ignored++;
      else events.add(e);
    }
    return new IngestDecision(events, ignored);
  }

  /**
   * What ingest decisions need to know of one session: {@code floor}, the seq a new message must exceed
   * (a session brought back by an update keeps the seq it had); {@code tombAt < 0}: no tombstone.
   */
  private record Probe(boolean live, long floor, String kind, String title, long createdTs, long metaTs, long tombFloor,
                       long tombAt) {}

  private Probe probe(String sid) {
    Session s = sessions.get(sid);
    if (s != null) return new Probe(true, s.seqFloor(), s.kind(), s.title(), s.createdTs(), s.metaTs(), 0, -1);
    Tombstone t = tombstones.get(sid);
    return t == null ? new Probe(false, 0, null, null, 0, 0, 0, -1) : new Probe(false, 0, null, null, 0, 0, t.lastSeq(), t.removedAt());
  }

  private static String orElse(String a, String b) {
    return a != null ? a : b;
  }

  private String freeGroupId() {
    for (int n = 1; ; n++) {
      String id = "folder-" + n;
      if (!groups.containsKey(id)) return id;
    }
  }

  private static Decision.Reject unknownSession(String sid) {
    return Decision.notFound("session \"" + sid + "\" not found");
  }

  private static Decision.Reject smartMembers(String gid) {
    return Decision.invalid("members of smart folder \"" + gid + "\" follow its rule; they cannot be added or removed by hand");
  }

  private static Decision.Reject unknownGroup(String gid) {
    return Decision.notFound("group \"" + gid + "\" not found");
  }

  // ---------------------------------------------------------------- event application (the only mutation)

  public void apply(AccountEvent event) {
    if (template) throw new IllegalStateException("the template state is never mutated; apply to a new AccountState");
    if (event instanceof AccountEvent.Erased) throw new IllegalStateException("an erasure replaces the state: see erased()");
    if (event instanceof AccountEvent.Batch b) {
      for (AccountEvent e : b.events()) apply(e);
      return;
    }
    if (!event.raisesVersion()) {
      applyDeviceEvent(event);
      return;
    }
    long v = ++version;
    if (event instanceof AccountEvent.MessageIngested m) {
      applyMessage(m, v);
    } else if (event instanceof AccountEvent.SessionUpdated u) {
      Session old = sessions.get(u.sessionId());
      Tombstone t = old == null ? dropTombstone(u.sessionId()) : null;
      Session s = Session.forUpdate(old, u.sessionId(), u.kind(), u.title(), u.ts(), t == null ? 0 : t.lastSeq());
      if (old == null) s = recreated(s, t);
      replaceSession(old, s.withVersion(v), v);
    } else if (event instanceof AccountEvent.SessionRemoved r) {
      Session old = sessions.get(r.sessionId());
      if (old != null) {
        replaceSession(old, null, v);
        Tombstone t = new Tombstone(old.sessionId(), v, old.seqFloor(), r.ts(), old.memberships(), old.leftAt());
        tombstonesForWrite().put(t.sessionId(), t);
        VersionKey key = new VersionKey(v, t.sessionId());
        changes.add(key);
        tombstoneOrderForWrite().add(key);
      }
    } else if (event instanceof AccountEvent.ReadMarked r) {
      update(r.sessionId(), v, s -> s.readUpTo(r.seq()));
    } else if (event instanceof AccountEvent.MarkedUnread u) {
      update(u.sessionId(), v, s -> s.withMarkedUnread(true));
    } else if (event instanceof AccountEvent.DraftSet d) {
      update(d.sessionId(), v, s -> s.withDraft(d.text().isEmpty() ? null : new Draft(d.text(), d.ts())));
    } else if (event instanceof AccountEvent.MuteSet m) {
      update(m.sessionId(), v, s -> s.withMutedUntil(m.until()));
    } else if (event instanceof AccountEvent.BoxSet b) {
      update(b.sessionId(), v, s -> s.withBox(b.box()));
    } else if (event instanceof AccountEvent.GroupCreated c) {
      removedGroups.remove(c.groupId());
      groups.put(c.groupId(), Group.custom(c.groupId(), c.name(), c.position(), v));
      lists.put(c.groupId(), new MappingList());
    } else if (event instanceof AccountEvent.SmartGroupCreated c) {
      boolean reused = removedGroups.remove(c.groupId()) != null;
      groups.put(c.groupId(), Group.smart(c.groupId(), c.name(), c.position(), c.rule(), v));
      lists.put(c.groupId(), new MappingList());
      smartRulesForWrite().put(c.groupId(), c.rule());
      if (reused) rescanSmart(v);
      else fillNewSmart(c.groupId(), v);
    } else if (event instanceof AccountEvent.SmartRuleSet r) {
      Group g = groups.get(r.groupId());
      if (g != null && g.isSmart()) {
        groups.put(g.groupId(), g.withRule(r.rule(), v));
        smartRulesForWrite().put(g.groupId(), r.rule());
        rescanSmart(v);
      }
    } else if (event instanceof AccountEvent.GroupPatched p) {
      Group g = groups.get(p.groupId());
      if (g != null) {
        // only a pinning group's place matters to the pins' order
        if (g.position() != p.position() && !g.pinned().isEmpty()) pins.record(v, g);
        groups.put(g.groupId(), g.withNamePosition(p.name(), p.position(), v));
      }
    } else if (event instanceof AccountEvent.GroupDeleted d) {
      MappingList list = lists.get(d.groupId());
      if (list != null) {
        smartRules.remove(d.groupId()); // its members then leave it as they are updated below
        List<String> members = new ArrayList<>(list.size());
        for (SortEntry e : list.after(null)) members.add(e.sessionId());
        for (String sid : members) update(sid, v, s -> s.withGroups(without(s.groups(), d.groupId())));
        groups.remove(d.groupId());
        lists.remove(d.groupId());
        removedGroupsForWrite().put(d.groupId(), new GroupTombstone(d.groupId(), v, d.ts()));
      }
    } else if (event instanceof AccountEvent.MemberAdded a) {
      update(a.sessionId(), v, s -> s.withGroups(with(s.groups(), a.groupId())));
    } else if (event instanceof AccountEvent.MemberRemoved r) {
      update(r.sessionId(), v, s -> s.withGroups(without(s.groups(), r.groupId())));
    } else if (event instanceof AccountEvent.PinnedSet p) {
      Group g = groups.get(p.groupId());
      if (g != null) {
        pins.record(v, g);
        groups.put(g.groupId(), g.withPinned(p.sessionIds(), v));
      }
    }
    pruneTombstones(event.ts());
  }

  private void applyDeviceEvent(AccountEvent event) {
    if (event instanceof AccountEvent.DevicesProgressed p) {
      for (Device d : p.devices()) devicesForWrite().merge(d.deviceId(), d, Device::merge);
    } else if (event instanceof AccountEvent.DeviceRemoved r) {
      devices.remove(r.deviceId());
    }
  }

  private void applyMessage(AccountEvent.MessageIngested m, long v) {
    Session old = sessions.get(m.sessionId());
    Tombstone t = old == null ? dropTombstone(m.sessionId()) : null;
    Session s = Session.forMessage(old, m.sessionId(), m.kind(), m.title(), m.seq(), m.ts(), t == null ? 0 : t.lastSeq());
    if (old == null) s = recreated(s, t);
    List<Long> mentions = s.mentions();
    if (m.mentioned() && m.seq() > s.readSeq()) {
      List<Long> added = new ArrayList<>(mentions.size() + 1);
      added.addAll(mentions);
      added.add(m.seq());
      mentions = added;
    }
    s = s.withLastMessage(new LastMessage(m.seq(), m.senderId(), m.preview(), m.ts()), mentions);
    if (m.own()) {
      s = s.readUpTo(m.seq());
    } else if (Box.ARCHIVE.equals(s.box()) && s.mutedUntil() <= m.ts()) {
      s = s.withBox(Box.INBOX); // as in Telegram: unmuted archived chats come back on a new message
    }
    replaceSession(old, s.withVersion(v), v);
  }

  /**
   * A session brought back from its tombstone counts as having left the groups it was removed from (at
   * the removal's version): a filtered client that has not yet heard of the removal still gets it.
   */
  private static Session recreated(Session s, Tombstone t) {
    if (t == null) return s;
    Map<String, Long> left = new HashMap<>(t.leftAt());
    if (t.memberships() != null) for (String g : t.memberships()) left.merge(g, t.version(), Math::max);
    return left.isEmpty() ? s : s.withLeftAt(left);
  }

  /**
   * After a smart rule appears or changes: every session whose smart membership differs takes version v
   * (so filtered deltas see it enter or leave). O(sessions x smart folders), once per rule change.
   */
  private void rescanSmart(long v) {
    List<Session> moved = new ArrayList<>();
    for (Session s : sessions.values()) if (!smartOf(s).equals(s.smart())) moved.add(s);
    for (Session s : moved) replaceSession(s, s.withVersion(v), v);
  }

  /**
   * A smart folder under an id that no usable cursor can name (never used, or its removal is past the
   * tombstone horizon, so older cursors reset): its first members need no new version, so creating a folder
   * does not send them again to every device. An id still in the removed groups goes through
   * {@link #rescanSmart} instead: a client of the old folder's view must hear of the new members.
   */
  private void fillNewSmart(String gid, long v) {
    SmartRule rule = smartRules.get(gid);
    MappingList list = lists.get(gid);
    int count = 0;
    int unreadSessions = 0;
    long unreadMessages = 0;
    for (Map.Entry<String, Session> e : sessions.entrySet()) {
      Session s = e.getValue();
      if (!rule.matches(s)) continue;
      Session in = s.withSmart(with(s.smart(), gid));
      e.setValue(in);
      list.add(SortEntry.of(in));
      count++;
      if (in.isUnread()) unreadSessions++;
      unreadMessages += in.unreadCount();
    }
    groups.put(gid, groups.get(gid).withAggregates(count, unreadSessions, unreadMessages, v));
  }

  /** The smart folders the session matches now, sorted by id. */
  private List<String> smartOf(Session s) {
    if (smartRules.isEmpty()) return List.of();
    List<String> in = null;
    for (Map.Entry<String, SmartRule> e : smartRules.entrySet()) {
      if (e.getValue().matches(s)) {
        if (in == null) in = new ArrayList<>(2);
        in.add(e.getKey());
      }
    }
    return in == null ? List.of() : in;
  }

  private void update(String sid, long v, java.util.function.UnaryOperator<Session> change) {
    Session old = sessions.get(sid);
    if (old != null) replaceSession(old, change.apply(old).withVersion(v), v);
  }

  private Tombstone dropTombstone(String sid) {
    Tombstone t = tombstones.remove(sid);
    if (t != null) {
      VersionKey key = new VersionKey(t.version(), sid);
      changes.remove(key);
      tombstoneOrder.remove(key);
    }
    return t;
  }

  /**
   * Swaps one session's value (old or neu may be null for create/remove) and keeps every index in step:
   * the version index, the mapping list of each group it leaves or enters, those groups' aggregates and
   * pins. Cost: O(groups of the session x log n).
   */
  private void replaceSession(Session old, Session neu, long v) {
    String id = old != null ? old.sessionId() : neu.sessionId();
    if (neu != null) {
      List<String> smart = smartOf(neu);
      if (!smart.equals(neu.smart())) neu = neu.withSmart(smart);
    }
    if (old != null && neu != null) neu = withDepartures(old, neu, v);
    if (old != null) {
      changes.remove(new VersionKey(old.version(), id));
      digests.toggle(id, old.version());
    }
    if (neu != null) {
      sessions.put(id, neu);
      changes.add(new VersionKey(v, id));
      digests.toggle(id, neu.version());
      if (old == null) digests.added();
    } else {
      sessions.remove(id);
      digests.removed();
    }
    if (digests.wantsGrowth()) digests.rebuild(sessions.values());
    Set<String> touched = new LinkedHashSet<>();
    if (old != null) touched.addAll(old.memberships());
    if (neu != null) touched.addAll(neu.memberships());
    for (String gid : touched) {
      Group g = groups.get(gid);
      MappingList list = lists.get(gid);
      if (g == null || list == null) continue;
      boolean inOld = old != null && old.inGroup(gid);
      boolean inNew = neu != null && neu.inGroup(gid);
      if (inOld) list.remove(SortEntry.of(old));
      if (inNew) list.add(SortEntry.of(neu));
      int count = g.sessionCount() - (inOld ? 1 : 0) + (inNew ? 1 : 0);
      int unreadSessions = g.unreadSessions() - (inOld && old.isUnread() ? 1 : 0) + (inNew && neu.isUnread() ? 1 : 0);
      long unreadMessages = g.unreadMessages() - (inOld ? old.unreadCount() : 0) + (inNew ? neu.unreadCount() : 0);
      List<String> pinned = g.pinned();
      if (inOld && !inNew && pinned.contains(id)) {
        pins.record(v, g);
        pinned = without(pinned, id);
      }
      if (count != g.sessionCount() || unreadSessions != g.unreadSessions() || unreadMessages != g.unreadMessages()
          || pinned != g.pinned()) {
        groups.put(gid, new Group(g.groupId(), g.kind(), g.name(), g.position(), pinned, count, unreadSessions, unreadMessages, v, g.rule()));
      }
    }
  }

  /** Notes the groups the session leaves at version v (and forgets the ones it comes back to). */
  private static Session withDepartures(Session old, Session neu, long v) {
    Map<String, Long> left = null;
    for (String g : old.memberships()) {
      if (!neu.inGroup(g)) {
        if (left == null) left = new HashMap<>(neu.leftAt());
        left.put(g, v);
      }
    }
    for (String g : neu.leftAt().keySet()) {
      if (neu.inGroup(g)) {
        if (left == null) left = new HashMap<>(neu.leftAt());
        left.remove(g);
      }
    }
    return left == null ? neu : neu.withLeftAt(left);
  }

  /** Drops the oldest removals once there are more than the minimum count and they are past retention. */
  private void pruneTombstones(long now) {
    long cutoff = now - limits.tombstoneRetentionMillis();
    while (tombstoneOrder.size() > limits.tombstoneMinCount()) {
      VersionKey oldest = tombstoneOrder.first();
      Tombstone t = tombstones.get(oldest.sessionId());
      if (t.removedAt() >= cutoff) break;
      tombstoneOrder.pollFirst();
      changes.remove(oldest);
      tombstones.remove(oldest.sessionId());
      prunedThrough = Math.max(prunedThrough, oldest.version());
    }
    while (removedGroups.size() > limits.tombstoneMinCount()) {
      GroupTombstone oldest = removedGroups.values().stream().min((a, b) -> Long.compare(a.version(), b.version())).orElseThrow();
      if (oldest.removedAt() >= cutoff) break;
      removedGroups.remove(oldest.groupId());
      prunedThrough = Math.max(prunedThrough, oldest.version());
    }
  }

  private static List<String> with(List<String> sorted, String id) {
    if (sorted.contains(id)) return sorted;
    List<String> out = new ArrayList<>(sorted.size() + 1);
    out.addAll(sorted);
    out.add(id);
    Collections.sort(out);
    return out;
  }

  private static List<String> without(List<String> list, String id) {
    List<String> out = new ArrayList<>(list);
    out.remove(id);
    return out;
  }

  // ---------------------------------------------------------------- snapshots

  /** Sessions in version order, so a load finds its version index already sorted. */
  public AccountSnapshot toSnapshot() {
    List<Session> inOrder = new ArrayList<>(sessions.size());
    for (VersionKey k : changes) {
      Session s = sessions.get(k.sessionId());
      if (s != null) inOrder.add(s);
    }
    return new AccountSnapshot(version, prunedThrough, inOrder, List.copyOf(groups.values()),
        List.copyOf(tombstones.values()), List.copyOf(removedGroups.values()), List.copyOf(devices.values()),
        pins.completeAfter(), pins.entries(), incarnation);
  }

  /** Rebuilds the indexes in linear passes over sorted runs, not one O(log n) insert per session. */
  public static AccountState fromSnapshot(AccountSnapshot snap, Limits limits) {
    AccountState st = new AccountState(limits);
    st.version = snap.version();
    st.incarnation = snap.incarnation();
    st.prunedThrough = snap.prunedThrough();
    // a snapshot from before the pin history knows the pins from its own version on
    st.pins = snap.pinChanges() == null ? new PinHistory(snap.version()) : new PinHistory(snap.pinsCompleteAfter(), snap.pinChanges());
    for (Group g : snap.groups()) {
      st.groups.put(g.groupId(), g);
      st.lists.computeIfAbsent(g.groupId(), k -> new MappingList());
      if (g.isSmart() && g.rule() != null) st.smartRulesForWrite().put(g.groupId(), g.rule());
    }
    int n = snap.sessions().size() + snap.tombstones().size();
    VersionKey[] changes = new VersionKey[n];
    int c = 0;
    Map<String, List<SortEntry>> members = new HashMap<>();
    for (Session stored : snap.sessions()) {
      // smart membership is derived: recomputed from the rules, whatever the snapshot encoding kept of it
      Session s = stored.withSmart(st.smartOf(stored));
      st.sessions.put(s.sessionId(), s);
      changes[c++] = new VersionKey(s.version(), s.sessionId());
      SortEntry e = SortEntry.of(s);
      for (String gid : s.memberships()) {
        if (st.lists.containsKey(gid)) members.computeIfAbsent(gid, k -> new ArrayList<>()).add(e);
      }
    }
    VersionKey[] tombOrder = new VersionKey[snap.tombstones().size()];
    int t = 0;
    for (Tombstone tomb : snap.tombstones()) {
      st.tombstonesForWrite().put(tomb.sessionId(), tomb);
      VersionKey key = new VersionKey(tomb.version(), tomb.sessionId());
      changes[c++] = key;
      tombOrder[t++] = key;
    }
    st.changes.addAll(new SortedRun<>(changes, c));
    if (t > 0) st.tombstoneOrderForWrite().addAll(new SortedRun<>(tombOrder, t));
    members.forEach((gid, entries) -> st.lists.get(gid).addAllSorted(new SortedRun<>(entries.toArray(new SortEntry[0]), entries.size())));
    for (GroupTombstone g : snap.removedGroups()) st.removedGroupsForWrite().put(g.groupId(), g);
    st.digests.rebuild(st.sessions.values());
    if (snap.devices() != null) for (Device d : snap.devices()) st.devicesForWrite().put(d.deviceId(), d);
    return st;
  }

  /** Field-for-field equality of the observable state (tests compare replayed and snapshotted states). */
  public boolean sameAs(AccountState o) {
    return version == o.version && incarnation == o.incarnation && prunedThrough == o.prunedThrough && sessions.equals(o.sessions)
        && groups.equals(o.groups) && tombstones.equals(o.tombstones) && removedGroups.equals(o.removedGroups)
        && devices.equals(o.devices) && pins.sameAs(o.pins)
        && Objects.equals(changes, o.changes);
  }
}
