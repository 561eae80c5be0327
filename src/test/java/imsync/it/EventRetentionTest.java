package imsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 15's disk goal: once two snapshots cover an account's old events, the retention job removes them,
 * and the account still recovers whole (from its snapshot and the events after it) on a new node.
 */
@ExtendWith(LocalCassandra.class)
class EventRetentionTest {

  @Test
  void eventsCoveredByTwoSnapshotsGoAndTheAccountRecoversWhole() {
    String account = Api.uniqueAccount("trim");
    String config = "imsync.snapshot.every = 5\nimsync.retention.keep-events = 0";
    try (TestNode node = TestNode.start(config)) {
      Api api = node.api();
      for (int seq = 1; seq <= 12; seq++) api.message("dm:peer", seq, "peer", 1_700_000_000_000L + seq, account);
    }
    // snapshots at 5, 10 and 13 (the resting one of the stop): events up to the older of the latest two go
    try (CqlSession cql = CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", LocalCassandra.PORT))
        .withLocalDatacenter("datacenter1").build()) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      List<Long> left;
      while (true) {
        left = new ArrayList<>();
        for (var row : cql.execute("SELECT sequence_nr FROM imsync.messages WHERE persistence_id = ? AND partition_nr = 0",
            "Account|" + account)) {
          left.add(row.getLong(0));
        }
        if (!left.isEmpty() && left.get(0) > 5) break;
        assertTrue(System.nanoTime() < deadline, "events up to 5 still there after 60 s: " + left);
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // poll interval while awaiting the job
      }
      // the tail after the older kept snapshot stays whole: 6.. (snapshots 5 and 10) or 11.. (10 and the resting 13)
      long first = left.get(0);
      assertTrue(first == 6 || first == 11, "events after the older kept snapshot stay: " + left);
      assertEquals(left.size(), left.get(left.size() - 1) - first + 1, "no hole in what stays: " + left);
    }
    try (TestNode node = TestNode.start(config)) {
      Api.Response r = node.api().call("POST", "/v1/sync", Api.deviceToken(account, "phone"), "{\"cursor\":null}", Duration.ofSeconds(30));
      assertEquals(200, r.status(), r.raw().body());
      JsonNode s = r.body().get("sessions").get(0);
      assertEquals(12, s.get("last_message").get("seq").asLong());
      assertEquals(12, s.get("unread_count").asLong(), "every message counted once, none lost with the old events");
    }
  }
}
