package imsync.core;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Answers {@code POST /v1/sync/verify}: compares a client's bucket digests with the view's and lists the
 * sessions of the buckets that differ, whole buckets only, at most {@code maxSessions} of them. Plain Java;
 * reads the state, never changes it.
 *
 * <p>Cost: the whole-account view folds the account's kept digests (O(4096) at most) and scans the
 * sessions only when some bucket differs (to list that bucket: a SHA-256 of each id); a filtered view scans
 * its members once (two SHA-256 each).
 */
public final class VerifyPlanner {

  private VerifyPlanner() {}

  /** The sessions of one mismatched bucket, sorted by id. */
  public record Bucket(int bucket, List<Session> sessions) {
    public Bucket {
      sessions = List.copyOf(sessions);
    }
  }

  /**
   * {@code buckets}: the mismatched buckets that fit, ascending; {@code unchecked}: mismatched buckets left
   * out (ascending). {@code cursor}: a caught-up delta cursor of the view at {@code version}.
   */
  public record Result(long version, Cursor cursor, List<Group> groups, List<Bucket> buckets, List<Integer> unchecked) {}

  public static Result verify(AccountState st, View view, long[] clientDigests, int maxSessions) {
    int n = clientDigests.length;
    if (!SessionDigests.validBucketCount(n)) throw new IllegalArgumentException("bucket count must be a power of two from 1 to 4096");
    long[] server = view.isAll() ? st.accountDigests(n) : null;
    TreeMap<Integer, List<Session>> byBucket = null;
    if (server == null) {
      byBucket = new TreeMap<>();
      server = new long[n];
      for (Session s : members(st, view)) {
        int b = SessionDigests.bucketOf(s.sessionId(), n);
        server[b] ^= SessionDigests.contribution(s.sessionId(), s.version());
        byBucket.computeIfAbsent(b, k -> new ArrayList<>()).add(s);
      }
    }
    List<Integer> mismatched = new ArrayList<>();
    for (int b = 0; b < n; b++) if (server[b] != clientDigests[b]) mismatched.add(b);
    if (byBucket == null && !mismatched.isEmpty()) {
      Set<Integer> wanted = new HashSet<>(mismatched);
      byBucket = new TreeMap<>();
      for (Session s : st.sessions()) {
        int b = SessionDigests.bucketOf(s.sessionId(), n);
        if (wanted.contains(b)) byBucket.computeIfAbsent(b, k -> new ArrayList<>()).add(s);
      }
    }
    List<Bucket> buckets = new ArrayList<>();
    List<Integer> unchecked = new ArrayList<>();
    int sent = 0;
    for (int b : mismatched) {
      List<Session> in = new ArrayList<>(byBucket.getOrDefault(b, List.of()));
      if (sent + in.size() > maxSessions) {
        unchecked.add(b);
        continue;
      }
      in.sort((x, y) -> x.sessionId().compareTo(y.sessionId()));
      buckets.add(new Bucket(b, in));
      sent += in.size();
    }
    List<Group> groups = new ArrayList<>();
    for (Group g : st.groupsInOrder()) if (view.containsGroup(g.groupId())) groups.add(g);
    return new Result(st.version(), Cursor.Delta.caughtUp(view.hash(), st.version()), groups, buckets, unchecked);
  }

  /** The view's sessions, each once. */
  private static List<Session> members(AccountState st, View view) {
    if (view.isAll()) return new ArrayList<>(st.sessions());
    Set<String> seen = new HashSet<>();
    List<Session> out = new ArrayList<>();
    for (String gid : view.memberGroups()) {
      MappingList list = st.mappingList(gid);
      if (list == null) continue;
      for (SortEntry e : list.after(null)) if (seen.add(e.sessionId())) out.add(st.session(e.sessionId()));
    }
    return out;
  }
}
