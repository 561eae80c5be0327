package imsync.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One conversation of the account, immutable: every change makes a new value, so a reply can hand it
 * out without copying. {@code mentions} holds the seqs above {@code readSeq} that mention the account.
 */
public record Session(
    String sessionId,
    String kind,
    String title,
    LastMessage lastMessage,
    long readSeq,
    List<Long> mentions,
    boolean markedUnread,
    long mutedUntil,
    Draft draft,
    String box,
    List<String> groups,
    long createdTs,
    long metaTs,
    Map<String, Long> leftAt,
    long version,
    List<String> smart) {

  public Session {
    mentions = List.copyOf(mentions);
    groups = List.copyOf(groups);
    leftAt = leftAt == null ? Map.of() : Map.copyOf(leftAt);
    smart = smart == null || smart.isEmpty() ? List.of() : List.copyOf(smart);
  }

  public static Session create(String sessionId, String kind, String title, long createdTs, long readSeq) {
    return new Session(sessionId, kind, title, null, readSeq, List.of(), false, 0, null, Box.INBOX, List.of(), createdTs, createdTs, Map.of(), 0, List.of());
  }

  public long lastSeq() {
    return lastMessage == null ? 0 : lastMessage.seq();
  }

  public long unreadCount() {
    return Math.max(0, lastSeq() - readSeq);
  }

  public int mentionCount() {
    return mentions.size();
  }

  /** Counts toward a group's unread_sessions. */
  public boolean isUnread() {
    return unreadCount() > 0 || markedUnread;
  }

  public long sortKey() {
    long key = createdTs;
    if (lastMessage != null) key = Math.max(key, lastMessage.ts());
    if (draft != null) key = Math.max(key, draft.ts());
    return key;
  }

  public boolean inGroup(String groupId) {
    return box.equals(groupId) || groups.contains(groupId) || smart.contains(groupId);
  }

  /** box first, then custom groups, then smart folders. */
  public List<String> memberships() {
    List<String> all = new ArrayList<>(groups.size() + smart.size() + 1);
    all.add(box);
    all.addAll(groups);
    all.addAll(smart);
    return all;
  }

  /**
   * The smart folders whose rule it matches (sorted ids): derived by {@link AccountState} from the rules on
   * every change, never by clients; {@code groups} stays the custom groups only.
   */
  public Session withSmart(List<String> sortedSmart) {
    return new Session(sessionId, kind, title, lastMessage, readSeq, mentions, markedUnread, mutedUntil, draft, box, groups, createdTs, metaTs, leftAt, version, sortedSmart);
  }

  public Session withVersion(long v) {
    return new Session(sessionId, kind, title, lastMessage, readSeq, mentions, markedUnread, mutedUntil, draft, box, groups, createdTs, metaTs, leftAt, v, smart);
  }

  /** The rule of {@link #withKindTitle}: an event of time {@code ts} sets kind/title if it gives one and is not older. */
  public static boolean takesKindTitle(long metaTs, String k, String t, long ts) {
    return ts >= metaTs && (k != null || t != null);
  }

  /**
   * The session a message of {@code seq} lands on, before the message itself is set: a new one (brought
   * back with the seq it had, {@code keptSeq} > 0, else counting its first message as one unread), or
   * {@code old} with the event's kind and title; a session created by an update does not inherit the
   * history before its first message. The one copy of this rule, for the account and the Redis peer.
   */
  public static Session forMessage(Session old, String sid, String kind, String title, long seq, long ts, long keptSeq) {
    if (old == null) {
      return create(sid, kind == null ? "direct" : kind, title == null ? "" : title, ts, keptSeq > 0 ? keptSeq : seq - 1);
    }
    Session s = old.withKindTitle(kind, title, ts);
    if (s.lastMessage == null && s.readSeq < seq - 1) {
      s = new Session(s.sessionId, s.kind, s.title, null, seq - 1, List.of(), s.markedUnread, s.mutedUntil, s.draft, s.box,
          s.groups, s.createdTs, s.metaTs, s.leftAt, s.version, s.smart);
    }
    return s;
  }

  /**
   * The session a {@code session_update} leaves: a new one (brought back with the seq it had,
   * {@code keptSeq}) or {@code old} with the event's kind and title. Shared like {@link #forMessage}.
   */
  public static Session forUpdate(Session old, String sid, String kind, String title, long ts, long keptSeq) {
    if (old == null) return create(sid, kind == null ? "direct" : kind, title == null ? "" : title, ts, keptSeq);
    return old.withKindTitle(kind, title, ts);
  }

  /** The seq a new message must exceed: its last seq, or the seq it had when it was brought back. */
  public long seqFloor() {
    return Math.max(lastSeq(), readSeq);
  }

  /**
   * Kind and title from an event of time {@code ts}; the latest event time wins (kept in
   * {@code metaTs}), so a retried older event cannot set an older title again.
   */
  public Session withKindTitle(String k, String t, long ts) {
    if (!takesKindTitle(metaTs, k, t, ts)) return this;
    return new Session(sessionId, k == null ? kind : k, t == null ? title : t, lastMessage, readSeq, mentions, markedUnread,
        mutedUntil, draft, box, groups, createdTs, ts, leftAt, version, smart);
  }

  public Session withLastMessage(LastMessage m, List<Long> newMentions) {
    return new Session(sessionId, kind, title, m, readSeq, newMentions, markedUnread, mutedUntil, draft, box, groups, createdTs, metaTs, leftAt, version, smart);
  }

  /** Moves read_seq up (never down), dropping the mentions it covers; clears marked_unread. */
  public Session readUpTo(long seq) {
    long target = Math.max(readSeq, Math.min(seq, lastSeq()));
    List<Long> kept = mentions.stream().filter(s -> s > target).toList();
    return new Session(sessionId, kind, title, lastMessage, target, kept, false, mutedUntil, draft, box, groups, createdTs, metaTs, leftAt, version, smart);
  }

  public Session withMarkedUnread(boolean m) {
    return new Session(sessionId, kind, title, lastMessage, readSeq, mentions, m, mutedUntil, draft, box, groups, createdTs, metaTs, leftAt, version, smart);
  }

  public Session withMutedUntil(long until) {
    return new Session(sessionId, kind, title, lastMessage, readSeq, mentions, markedUnread, until, draft, box, groups, createdTs, metaTs, leftAt, version, smart);
  }

  public Session withDraft(Draft d) {
    return new Session(sessionId, kind, title, lastMessage, readSeq, mentions, markedUnread, mutedUntil, d, box, groups, createdTs, metaTs, leftAt, version, smart);
  }

  public Session withBox(String b) {
    return new Session(sessionId, kind, title, lastMessage, readSeq, mentions, markedUnread, mutedUntil, draft, b, groups, createdTs, metaTs, leftAt, version, smart);
  }

  /**
   * The groups this session left and the version it left them at: a filtered delta names a changed
   * session as removed only when it left one of the view's groups after the client's cursor.
   */
  public Session withLeftAt(Map<String, Long> left) {
    return new Session(sessionId, kind, title, lastMessage, readSeq, mentions, markedUnread, mutedUntil, draft, box, groups, createdTs, metaTs, left, version, smart);
  }

  /** Whether it left any of these groups after {@code version}. */
  public boolean leftAnyAfter(List<String> groupIds, long version) {
    for (String g : groupIds) {
      Long at = leftAt.get(g);
      if (at != null && at > version) return true;
    }
    return false;
  }

  public Session withGroups(List<String> sortedGroups) {
    return new Session(sessionId, kind, title, lastMessage, readSeq, mentions, markedUnread, mutedUntil, draft, box, sortedGroups, createdTs, metaTs, leftAt, version, smart);
  }
}
