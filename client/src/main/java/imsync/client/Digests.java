package imsync.client;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;

/**
 * The bucket digests of {@code POST /v1/sync/verify} (API v1.1), computed over the mirror exactly as the
 * server does: a session's bucket is {@code uint32_be(sha256(id)[0:4]) mod N}; a bucket's digest is the XOR
 * of {@code uint64_be(sha256(id + "\n" + version)[0:8])} over its sessions, as 16 lowercase hex digits.
 */
public final class Digests {
  public static final int MAX_BUCKETS = 4096;

  private Digests() {}

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256 in this JVM", e);
    }
  }

  public static int bucketOf(String sessionId, int n) {
    byte[] h = sha256(sessionId);
    long v = ((h[0] & 0xffL) << 24) | ((h[1] & 0xffL) << 16) | ((h[2] & 0xffL) << 8) | (h[3] & 0xffL);
    return (int) (v % n);
  }

  public static long contribution(String sessionId, long version) {
    byte[] h = sha256(sessionId + "\n" + version);
    long v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | (h[i] & 0xffL);
    return v;
  }

  public static String hex(long digest) {
    String s = Long.toHexString(digest);
    StringBuilder b = new StringBuilder(16);
    for (int i = s.length(); i < 16; i++) b.append('0');
    return b.append(s).toString();
  }

  /** A bucket count for {@code sessions} sessions: about two sessions a bucket, a power of two from 1 to 4096. */
  public static int bucketsFor(int sessions) {
    int n = 1;
    while (n < sessions / 2 && n < MAX_BUCKETS) n *= 2;
    return n;
  }

  public static String[] of(Collection<Session> sessions, int n) {
    if (n < 1 || n > MAX_BUCKETS || Integer.bitCount(n) != 1) throw new IllegalArgumentException("bucket count " + n);
    long[] d = new long[n];
    for (Session s : sessions) d[bucketOf(s.id(), n)] ^= contribution(s.id(), s.version());
    String[] out = new String[n];
    for (int i = 0; i < n; i++) out[i] = hex(d[i]);
    return out;
  }
}
