package imsync.core;

import java.util.List;

/**
 * A session group with its aggregates. Aggregates are kept incrementally by {@link AccountState}; the
 * member order lives in the group's {@link MappingList}.
 */
public record Group(
    String groupId,
    String kind,
    String name,
    int position,
    List<String> pinned,
    int sessionCount,
    int unreadSessions,
    long unreadMessages,
    long version,
    SmartRule rule) {

  public static final String SYSTEM = "system";
  public static final String CUSTOM = "custom";
  public static final String SMART = "smart";

  public Group {
    pinned = List.copyOf(pinned);
  }

  public static Group system(String id, String name, int position) {
    return new Group(id, SYSTEM, name, position, List.of(), 0, 0, 0, 0, null);
  }

  public static Group custom(String id, String name, int position, long version) {
    return new Group(id, CUSTOM, name, position, List.of(), 0, 0, 0, version, null);
  }

  /** A smart folder: members follow {@code rule} (see {@link SmartRule}); it has no pins. */
  public static Group smart(String id, String name, int position, SmartRule rule, long version) {
    return new Group(id, SMART, name, position, List.of(), 0, 0, 0, version, rule);
  }

  public boolean isSmart() {
    return SMART.equals(kind);
  }

  public Group withRule(SmartRule r, long v) {
    return new Group(groupId, kind, name, position, pinned, sessionCount, unreadSessions, unreadMessages, v, r);
  }

  public boolean isSystem() {
    return SYSTEM.equals(kind);
  }

  public Group withAggregates(int count, int unreadSess, long unreadMsgs, long v) {
    return new Group(groupId, kind, name, position, pinned, count, unreadSess, unreadMsgs, v, rule);
  }

  public Group withPinned(List<String> p, long v) {
    return new Group(groupId, kind, name, position, p, sessionCount, unreadSessions, unreadMessages, v, rule);
  }

  public Group withNamePosition(String n, int pos, long v) {
    return new Group(groupId, kind, n, pos, pinned, sessionCount, unreadSessions, unreadMessages, v, rule);
  }
}
