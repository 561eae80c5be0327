package imsync.core;

import java.util.List;

/** One sync batch, before encoding: each session id at most once across sessions and removedSessions. */
public record SyncResult(Cursor cursor, boolean hasMore, boolean reset, long version, List<Group> groups,
                         List<String> removedGroups, List<Session> sessions, List<String> removedSessions) {

  /** Nothing to tell the client: what a long poll waits past. */
  public boolean isEmpty() {
    return !hasMore && !reset && groups.isEmpty() && removedGroups.isEmpty() && sessions.isEmpty() && removedSessions.isEmpty();
  }
}
