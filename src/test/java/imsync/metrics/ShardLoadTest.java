package imsync.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.codahale.metrics.Clock;
import imsync.http.AdminRoutes;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ShardLoadTest {

  /** A clock the test moves by hand. */
  private static final class ManualClock extends Clock {
    long nanos = 1_000_000_000L;

    @Override
    public long getTick() {
      return nanos;
    }

    void advanceSeconds(long s) {
      nanos += TimeUnit.SECONDS.toNanos(s);
    }
  }

  @Test
  void rateIsTheLastMinutesAverageAndDecaysWithoutTraffic() {
    ManualClock clock = new ManualClock();
    ShardLoad load = new ShardLoad(300, clock);
    ShardLoad.Counters c = load.forShard(7);
    for (int i = 0; i < 300; i++) c.request();
    c.ingest(50);
    assertEquals(0.0, c.requestsPerSecond(), "no rate before the first 5 s interval ends");
    clock.advanceSeconds(6);
    assertEquals(60.0, c.requestsPerSecond(), 1e-9, "300 requests in 5 s");
    assertEquals(10.0, c.ingestPerSecond(), 1e-9, "50 deliveries in 5 s");
    clock.advanceSeconds(60);
    // one minute without traffic: the one-minute exponential rate falls to 1/e of what it was
    assertEquals(60.0 / Math.E, c.requestsPerSecond(), 0.01);
    clock.advanceSeconds(600);
    assertTrue(c.requestsPerSecond() < 0.01, "ten idle minutes later it is about zero");
  }

  @Test
  void accountsCountInTheShardShardingPutsThemIn() {
    ShardLoad load = new ShardLoad(300, new ManualClock());
    String account = "alice";
    int shard = Integer.parseInt(AdminRoutes.shardOf(account, 300));
    assertSame(load.forShard(shard), load.forAccount(account));
    assertNull(load.peek((shard + 1) % 300), "a shard nothing touched has no counters");
    assertNull(load.peek(300));
    assertNull(load.peek(-1));
  }
}
