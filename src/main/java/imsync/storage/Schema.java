package imsync.storage;

import akka.Done;
import akka.persistence.cassandra.CassandraStatements;
import akka.persistence.cassandra.PluginSettings;
import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keyspaces and tables that dev and tests create at start (production applies cassandra/schema/*.cql and turns
 * autocreate off): statement after statement, each tried until Cassandra takes it ({@link Outages}). The
 * persistence plugin's own creation gives up on the first failure and only logs it; on a ring, the table
 * statement often reached a node that had not yet heard of the keyspace, and the journal never had tables.
 */
public final class Schema {
  private static final Logger log = LoggerFactory.getLogger(Schema.class);
  private static final long ATTEMPT_TIMEOUT_SECONDS = 30;

  private Schema() {}

  /**
   * The statement that creates {@code keyspace} as cassandra/schema does: NetworkTopologyStrategy with
   * {@code replicationFactor} replicas in {@code localDatacenter}. Every keyspace imsync creates uses it, so
   * whichever component creates a shared keyspace first, it gets the same replication (the audit log once
   * created the journal's keyspace with one replica, and a killed ring node then took a third of the accounts).
   */
  public static String createKeyspace(String keyspace, String localDatacenter, int replicationFactor) {
    return "CREATE KEYSPACE IF NOT EXISTS " + keyspace + " WITH replication = {'class': 'NetworkTopologyStrategy', '"
        + localDatacenter.replace("'", "''") + "': " + replicationFactor + "}";
  }

  /** Runs {@code ddl} in order through {@code execute}; completes when all are done. */
  public static CompletionStage<Done> create(List<String> ddl, Function<String, CompletionStage<?>> execute, BooleanSupplier giveUp) {
    CompletionStage<Done> done = CompletableFuture.completedFuture(Done.getInstance());
    for (String cql : ddl) {
      // each attempt bounded: on a machine so busy that a schema statement never answered (seen once in a
      // benchmark), the store would otherwise never become ready
      done = done.thenCompose(d -> Outages.untilAnswered("schema statement \"" + firstWords(cql) + "\"",
              () -> execute.apply(cql).toCompletableFuture().orTimeout(ATTEMPT_TIMEOUT_SECONDS, TimeUnit.SECONDS), giveUp, log)
          .thenApply(r -> Done.getInstance()));
    }
    return done;
  }

  /**
   * The persistence plugin's keyspaces and tables, as its own settings (at {@code pluginConfig}, the plugin's
   * shared section) ask for them: the journal's, then the snapshot store's.
   */
  public static CompletionStage<Done> createPluginSchema(CqlSession session, akka.actor.ActorSystem system, Config pluginConfig) {
    PluginSettings settings = PluginSettings.apply(system, pluginConfig);
    CassandraStatements statements = new CassandraStatements(settings);
    var journal = statements.journalStatements();
    var js = settings.journalSettings();
    List<String> ddl = new ArrayList<>();
    if (js.keyspaceAutoCreate()) ddl.add(journal.createKeyspace());
    if (js.tablesAutoCreate()) {
      ddl.add(journal.createTable());
      ddl.add(journal.createMetadataTable());
      if (js.supportAllPersistenceIds()) ddl.add(journal.createAllPersistenceIdsTable());
      if (settings.eventsByTagSettings().eventsByTagEnabled()) {
        ddl.add(journal.createTagsTable());
        ddl.add(journal.createTagsProgressTable());
        ddl.add(journal.createTagScanningTable());
      }
    }
    var snapshot = statements.snapshotStatements();
    var ss = settings.snapshotSettings();
    if (ss.keyspaceAutoCreate()) ddl.add(snapshot.createKeyspace());
    if (ss.tablesAutoCreate()) ddl.add(snapshot.createTable());
    return create(ddl, session::executeAsync, () -> session.closeFuture().toCompletableFuture().isDone());
  }

  private static String firstWords(String cql) {
    String one = cql.strip().replaceAll("\\s+", " ");
    int paren = one.indexOf('(');
    String head = paren > 0 ? one.substring(0, paren).strip() : one;
    return head.length() <= 100 ? head : head.substring(0, 100) + "...";
  }
}
