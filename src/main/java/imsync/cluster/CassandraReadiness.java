package imsync.cluster;

import akka.actor.ActorSystem;
import akka.stream.alpakka.cassandra.javadsl.CassandraSession;
import akka.stream.alpakka.cassandra.javadsl.CassandraSessionRegistry;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Readiness check for Akka Management's {@code /ready}: a node that cannot reach Cassandra reports
 * not-ready, so the load balancer sends its terminals elsewhere (cluster membership has its own check).
 */
public final class CassandraReadiness implements Supplier<CompletionStage<Boolean>> {
  private final CassandraSession session;

  public CassandraReadiness(ActorSystem system) {
    // Its own session: taking the persistence plugin's would create it without the plugin's schema
    // initialisation (dev/test keyspace autocreate) if the check ran first.
    this.session = CassandraSessionRegistry.get(system).sessionFor("alpakka.cassandra");
  }

  @Override
  public CompletionStage<Boolean> get() {
    // a plain statement: a prepare would wait out the outage this check is there to report (PatientSession)
    return session.selectOne(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance("SELECT release_version FROM system.local"))
        .toCompletableFuture()
        .orTimeout(Duration.ofSeconds(2).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .handleAsync((row, failure) -> failure == null && row.isPresent(), imsync.http.HttpSupport.IN_PLACE);
  }
}
