package imsync.core;

import java.util.List;
import java.util.Map;

/**
 * What is left of a removed session: when it went (version, ts), the seq it had (which decides whether a
 * later message brings it back and what its read_seq is then), and the groups it was in and had left, so
 * a filtered delta names the removal only to views that may hold it.
 */
public record Tombstone(String sessionId, long version, long lastSeq, long removedAt, List<String> memberships,
                        Map<String, Long> leftAt) {

  public Tombstone {
    memberships = memberships == null ? null : List.copyOf(memberships);
    leftAt = leftAt == null ? Map.of() : Map.copyOf(leftAt);
  }

  /** Whether a client of this filtered view, caught up to {@code version}, may hold the session. */
  public boolean concerns(List<String> viewGroups, long version) {
    if (memberships == null) return true; // written before memberships were kept: tell everyone
    for (String g : viewGroups) {
      if (memberships.contains(g)) return true;
      Long at = leftAt.get(g);
      if (at != null && at > version) return true;
    }
    return false;
  }
}
