package imsync.core;

/** An entry of the version index: the session (live or removed) that last changed at {@code version}. */
public record VersionKey(long version, String sessionId) implements Comparable<VersionKey> {

  /** Sorts after every key of {@code version}: "everything up to and including version". */
  public static VersionKey endOf(long version) {
    return new VersionKey(version, null);
  }

  @Override
  public int compareTo(VersionKey o) {
    int c = Long.compare(version, o.version);
    if (c != 0) return c;
    if (sessionId == null) return o.sessionId == null ? 0 : 1;
    if (o.sessionId == null) return -1;
    return sessionId.compareTo(o.sessionId);
  }
}
