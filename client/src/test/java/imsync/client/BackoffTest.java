package imsync.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void delaysGrowExponentiallyWithinTheCapAndAreJittered() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofMillis(5000), new Random(7));
    for (int attempt = 1; attempt <= 12; attempt++) {
      long cap = Math.min(5000, 100L << (attempt - 1));
      Set<Long> seen = new HashSet<>();
      for (int i = 0; i < 200; i++) {
        long d = b.delay(attempt).toMillis();
        assertTrue(d >= 100 && d <= cap, "attempt " + attempt + ": " + d + " outside [100, " + cap + "]");
        seen.add(d);
      }
      if (attempt > 1) assertTrue(seen.size() > 20, "attempt " + attempt + " is not jittered: " + seen);
    }
    assertEquals(100, b.delay(1).toMillis());
  }
}
