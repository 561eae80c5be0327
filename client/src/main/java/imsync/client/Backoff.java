package imsync.client;

import java.time.Duration;
import java.util.Random;

/**
 * Reconnect delays: exponential with full jitter (a delay drawn uniformly from [base, min(max, base·2^attempt)]),
 * so a node restart is not met by every terminal at the same instant.
 */
public final class Backoff {
  private final long baseMillis;
  private final long maxMillis;
  private final Random random;

  public Backoff(Duration base, Duration max, Random random) {
    if (base.isNegative() || base.isZero() || max.compareTo(base) < 0) throw new IllegalArgumentException("0 < base ≤ max");
    this.baseMillis = base.toMillis();
    this.maxMillis = max.toMillis();
    this.random = random;
  }

  /** The delay before retry number {@code attempt} (1 for the first retry). */
  public Duration delay(int attempt) {
    long cap = baseMillis;
    for (int i = 1; i < attempt && cap < maxMillis; i++) cap *= 2;
    cap = Math.min(cap, maxMillis);
    long span = cap - baseMillis;
    long jitter;
    synchronized (random) {
      jitter = span == 0 ? 0 : (long) (random.nextDouble() * (span + 1));
    }
    return Duration.ofMillis(baseMillis + Math.min(jitter, span));
  }
}
