package imsync.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import imsync.metrics.MeteredSessionProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Cassandra topology settings (issue 16) as the node resolves them. */
class CassandraTopologyConfigTest {

  private static Config load(String overrides) {
    return ConfigFactory.load(ConfigFactory.parseString(overrides).withFallback(ConfigFactory.parseResources("application.conf")));
  }

  @Test
  void contactPointsAreAListOfHostPort() {
    assertEquals(List.of("127.0.0.1:19542", "127.0.0.2:19542", "127.0.0.3:19542"),
        MeteredSessionProvider.contactPoints("127.0.0.1:19542, 127.0.0.2:19542,127.0.0.3:19542,"));
    assertEquals(List.of("cassandra-0.db:9042"), MeteredSessionProvider.contactPoints("cassandra-0.db:9042"));
    assertThrows(IllegalArgumentException.class, () -> MeteredSessionProvider.contactPoints("127.0.0.1"));
    assertThrows(IllegalArgumentException.class, () -> MeteredSessionProvider.contactPoints("127.0.0.1:x"));
    assertThrows(IllegalArgumentException.class, () -> MeteredSessionProvider.contactPoints(" , "));
  }

  @Test
  void defaultsSuitOneLocalNode() {
    Config c = load("");
    assertEquals("datacenter1", c.getString("datastax-java-driver.basic.load-balancing-policy.local-datacenter"));
    assertEquals(List.of("datacenter1:1"), c.getStringList("akka.persistence.cassandra.journal.data-center-replication-factors"));
    assertEquals("NetworkTopologyStrategy", c.getString("akka.persistence.cassandra.journal.replication-strategy"));
    assertEquals(1, c.getInt("imsync.snapshot-store.replication-factor"));
  }

  @Test
  void datacenterAndReplicationFactorFollowTheSettings() {
    Config c = load("imsync.cassandra { local-datacenter = dc-east, replication-factor = 3 }");
    assertEquals("dc-east", c.getString("datastax-java-driver.basic.load-balancing-policy.local-datacenter"));
    assertEquals(List.of("dc-east:3"), c.getStringList("akka.persistence.cassandra.journal.data-center-replication-factors"));
    assertEquals(List.of("dc-east:3"), c.getStringList("akka.persistence.cassandra.snapshot.data-center-replication-factors"));
    assertEquals("dc-east", c.getString("imsync.snapshot-store.local-datacenter"));
    assertEquals(3, c.getInt("imsync.snapshot-store.replication-factor"));
    // the audit log may create the journal's keyspace before the journal does: with the same replication
    assertEquals("dc-east", c.getString("imsync.audit.local-datacenter"));
    assertEquals(3, c.getInt("imsync.audit.replication-factor"));
  }

  @Test
  void journalAndSnapshotsReadAndWriteAtLocalQuorum() {
    Config c = load("");
    for (String profile : List.of("akka-persistence-cassandra-profile", "akka-persistence-cassandra-snapshot-profile")) {
      assertEquals("LOCAL_QUORUM", c.getString("datastax-java-driver.profiles." + profile + ".basic.request.consistency"), profile);
    }
    for (String path : List.of("akka.persistence.cassandra", "akka.persistence.cassandra.snapshot", "imsync.snapshot-store")) {
      String read = c.getString(path + ".read-profile");
      String write = c.getString(path + ".write-profile");
      assertEquals("LOCAL_QUORUM", c.getString("datastax-java-driver.profiles." + read + ".basic.request.consistency"), path);
      assertEquals("LOCAL_QUORUM", c.getString("datastax-java-driver.profiles." + write + ".basic.request.consistency"), path);
    }
  }
}
