package imsync.peer;

/**
 * Redis keys of one account. Every key carries the hash tag {@code {account}}, so a Redis Cluster keeps an
 * account on one slot and its MULTI/EXEC and scripts stay legal there.
 */
final class PeerKeys {
  private PeerKeys() {}

  /** The account version: every accepted change raises it. */
  static String ver(String a) {
    return "{" + a + "}:ver";
  }

  /** HASH: {@code d} = the session as imsync.core.Session JSON, {@code j} = its contract JSON. */
  static String session(String a, String sid) {
    return "{" + a + "}:s:" + sid;
  }

  /** ZSET sid -> version of its last change (live sessions). */
  static String byVersion(String a) {
    return "{" + a + "}:byver";
  }

  /** ZSET sid -> version of its removal. */
  static String removed(String a) {
    return "{" + a + "}:removed";
  }

  /** HASH sid -> "lastSeq:removedAt:version" of a removed session (decides whether a message brings it back). */
  static String tombs(String a) {
    return "{" + a + "}:tomb";
  }

  /** ZSET of all sessions, score -sort_key: ascending order is sort_key desc, then session_id asc. */
  static String rank(String a) {
    return "{" + a + "}:rank";
  }

  /** ZSET of one group's members, scored like {@link #rank}: the group's mapping list without its pins. */
  static String group(String a, String gid) {
    return "{" + a + "}:g:" + gid;
  }

  /** HASH gid -> the group's contract JSON. */
  static String groups(String a) {
    return "{" + a + "}:groups";
  }
}
