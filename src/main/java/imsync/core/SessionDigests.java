package imsync.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;

/**
 * Bucket digests of the whole account for {@code POST /v1/sync/verify}, kept incrementally.
 *
 * <p>A session's bucket for N buckets is {@code uint32_be(sha256(id)[0:4]) mod N} and its contribution is
 * {@code uint64_be(sha256(id + "\n" + version)[0:8])}; a bucket's digest is the XOR of its sessions'. N is a
 * power of two, so the digest of bucket b for N equals the XOR of the fine buckets {@code j ≡ b (mod N)}
 * for any finer power of two F ≥ N: this keeps F fine buckets and folds them per request.
 *
 * <p>Memory: nothing per session (the contribution is recomputed from id and version when a session
 * changes: three SHA-256 of short strings per change), and F longs per account: F starts at 2 (a small
 * account is most accounts: 64 longs each cost 530 B of heap on a 1-session account) and doubles when the
 * account holds more than 4F sessions, up to 4096 (32 KiB, from ~8,200 sessions): at most ~4 bytes per
 * session. A request with N > F (only when the account holds fewer than 4N sessions)
 * is answered by a scan, bounded by 4N ≤ 16,384 sessions.
 */
public final class SessionDigests {
  public static final int MAX_BUCKETS = 4096;
  static final int MIN_FINE = 2;

  private long[] fine = new long[MIN_FINE];
  private int count;

  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  });

  private static byte[] sha256(String text) {
    MessageDigest md = SHA256.get();
    md.reset();
    return md.digest(text.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code uint32_be(sha256(id)[0:4])}, as an unsigned value in a long. */
  public static long bucketHash(String sessionId) {
    byte[] h = sha256(sessionId);
    return ((h[0] & 0xffL) << 24) | ((h[1] & 0xffL) << 16) | ((h[2] & 0xffL) << 8) | (h[3] & 0xffL);
  }

  /** {@code uint64_be(sha256(id + "\n" + version)[0:8])}. */
  public static long contribution(String sessionId, long version) {
    byte[] h = sha256(sessionId + "\n" + version);
    long v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | (h[i] & 0xffL);
    return v;
  }

  public static int bucketOf(String sessionId, int n) {
    return (int) (bucketHash(sessionId) & (n - 1));
  }

  public static boolean validBucketCount(int n) {
    return n >= 1 && n <= MAX_BUCKETS && Integer.bitCount(n) == 1;
  }

  public static String hex(long digest) {
    String s = Long.toHexString(digest);
    return "0".repeat(16 - s.length()) + s;
  }

  int fineSize() {
    return fine.length;
  }

  /** A session appears (or its old value leaves, which is the same XOR). */
  void toggle(String sessionId, long version) {
    fine[bucketOf(sessionId, fine.length)] ^= contribution(sessionId, version);
  }

  void added() {
    count++;
  }

  void removed() {
    count--;
  }

  /** Whether the account outgrew the fine buckets; then {@link #rebuild} with every session. */
  boolean wantsGrowth() {
    return count > 4 * fine.length && fine.length < MAX_BUCKETS;
  }

  void rebuild(Collection<Session> sessions) {
    int size = fine.length;
    while (sessions.size() > 4 * size && size < MAX_BUCKETS) size *= 2;
    fine = new long[size];
    count = sessions.size();
    for (Session s : sessions) toggle(s.sessionId(), s.version());
  }

  /** Digests of N buckets, or null when N is finer than what is kept (the caller scans). */
  long[] fold(int n) {
    if (n > fine.length) return null;
    long[] out = new long[n];
    for (int j = 0; j < fine.length; j++) out[j & (n - 1)] ^= fine[j];
    return out;
  }
}
