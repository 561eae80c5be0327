package imsync.http;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Token bucket per account for device calls: a runaway client gets 429 before it can flood its account's
 * mailbox. Per node (an account's calls mostly land on one node behind a sticky balancer); the map is
 * dropped wholesale when it grows past {@code maxKeys}, which only ever refills buckets.
 */
public final class RateLimiter {
  private final double perSecond;
  private final double burst;
  private final int maxKeys;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  public RateLimiter(double perSecond, int burst, int maxKeys) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.maxKeys = maxKeys;
  }

  private static final class Bucket {
    double tokens;
    long lastNanos;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.lastNanos = now;
    }
  }

  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  public long acquire(String key) {
    if (perSecond <= 0) return 0;
    long now = System.nanoTime();
    if (buckets.size() > maxKeys) buckets.clear();
    Bucket b = buckets.computeIfAbsent(key, k -> new Bucket(burst, now));
    synchronized (b) {
      b.tokens = Math.min(burst, b.tokens + (now - b.lastNanos) / 1e9 * perSecond);
      b.lastNanos = now;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, (long) Math.ceil((1 - b.tokens) / perSecond));
    }
  }
}
