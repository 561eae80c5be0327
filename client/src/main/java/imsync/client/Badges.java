package imsync.client;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Unread badges computed from the mirror with the queued actions applied (a read taken offline clears its
 * badge at once): for the whole account and per group, with the server's meaning of {@code unread_sessions}
 * (unread messages or marked unread) and {@code unread_messages} (sum of {@code unread_count}).
 */
public final class Badges {
  /** One badge. */
  public static final class Count {
    public final long sessions;
    public final long unreadSessions;
    public final long unreadMessages;

    public Count(long sessions, long unreadSessions, long unreadMessages) {
      this.sessions = sessions;
      this.unreadSessions = unreadSessions;
      this.unreadMessages = unreadMessages;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Count)) return false;
      Count c = (Count) o;
      return sessions == c.sessions && unreadSessions == c.unreadSessions && unreadMessages == c.unreadMessages;
    }

    @Override
    public int hashCode() {
      return Objects.hash(sessions, unreadSessions, unreadMessages);
    }

    @Override
    public String toString() {
      return unreadSessions + "/" + unreadMessages + " of " + sessions;
    }
  }

  public final Count total;
  /** By group id, in the groups' display order. */
  public final Map<String, Count> groups;

  Badges(Count total, Map<String, Count> groups) {
    this.total = total;
    this.groups = Collections.unmodifiableMap(new LinkedHashMap<>(groups));
  }

  /** The badges of {@code sessions} for each of the groups (in display order). */
  public static Badges compute(Map<String, Session> sessions, Iterable<Group> groupsInOrder) {
    Map<String, Count> per = new LinkedHashMap<>();
    for (Group g : groupsInOrder) {
      long n = 0;
      long unread = 0;
      long messages = 0;
      for (Session s : sessions.values()) {
        if (!g.contains(s)) continue;
        n++;
        if (s.isUnread()) unread++;
        messages += s.unreadCount();
      }
      per.put(g.id(), new Count(n, unread, messages));
    }
    long unread = 0;
    long messages = 0;
    for (Session s : sessions.values()) {
      if (s.isUnread()) unread++;
      messages += s.unreadCount();
    }
    return new Badges(new Count(sessions.size(), unread, messages), per);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Badges && ((Badges) o).total.equals(total) && ((Badges) o).groups.equals(groups);
  }

  @Override
  public int hashCode() {
    return Objects.hash(total, groups);
  }

  @Override
  public String toString() {
    return "total " + total + " " + groups;
  }
}
