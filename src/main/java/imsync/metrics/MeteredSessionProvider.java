package imsync.metrics;

import akka.actor.ActorSystem;
import akka.stream.alpakka.cassandra.CqlSessionProvider;
import akka.stream.alpakka.cassandra.DriverConfigLoaderFromConfig;
import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import imsync.storage.PatientSession;
import imsync.storage.Schema;
import java.util.ArrayList;
import java.util.List;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;

/**
 * Alpakka's default session provider plus the node's meter registry: the driver's
 * {@code MicrometerMetricsFactory} (datastax-java-driver.advanced.metrics) reads the registry from the session
 * builder, else it would fall back to Micrometer's JVM-global registry. Set as {@code session-provider} of the
 * persistence plugin and of {@code alpakka.cassandra} (the readiness check's session). Every session it opens
 * is a {@link PatientSession}; with {@code imsync-create-schema = on} (the plugin's section) it also creates the
 * plugin's keyspaces and tables first ({@link Schema}).
 */
public final class MeteredSessionProvider implements CqlSessionProvider {
  private final ActorSystem system;
  private final Config config;

  public MeteredSessionProvider(ActorSystem system, Config config) {
    this.system = system;
    this.config = config;
  }

  @Override
  public Future<CqlSession> connect(ExecutionContext ec) {
    Config driver = CqlSessionProvider.driverConfig(system, config);
    Config root = system.settings().config();
    if (root.hasPath("imsync.cassandra.contact-point")) {
      driver = driver.withValue("basic.contact-points",
          ConfigValueFactory.fromIterable(contactPoints(root.getString("imsync.cassandra.contact-point"))));
    }
    // a stable session name (the driver's metrics carry it as a tag) instead of a JVM-wide counter's s0, s1...
    if (config.hasPath("imsync-session-name")) {
      driver = driver.withValue("basic.session-name", config.getValue("imsync-session-name"));
    }
    java.util.concurrent.CompletionStage<CqlSession> session = CqlSession.builder()
        .withConfigLoader(DriverConfigLoaderFromConfig.fromConfig(driver))
        .withMetricRegistry(Metrics.get(system).registry())
        .buildAsync()
        // prepares wait out an outage: every plugin keeps its first prepare's outcome for good
        .thenApply(PatientSession::new);
    if (config.hasPath("imsync-create-schema") && config.getBoolean("imsync-create-schema")) {
      // the plugin's keyspaces and tables before the plugin's own attempt, which gives up at the first failure
      session = session.thenCompose(s -> Schema.createPluginSchema(s, system, config).thenApply(d -> (CqlSession) s));
    }
    return FutureConverters.asScala(session);
  }

  /**
   * {@code host:port,host:port} (imsync.cassandra.contact-point, env IMSYNC_CASSANDRA) as the driver's list;
   * blanks around entries are ignored. An entry without a port, or an empty list, is refused at start.
   */
  public static List<String> contactPoints(String spec) {
    List<String> out = new ArrayList<>();
    for (String part : spec.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) continue;
      int colon = p.lastIndexOf(':');
      if (colon <= 0 || colon == p.length() - 1 || !p.substring(colon + 1).chars().allMatch(Character::isDigit)) {
        throw new IllegalArgumentException("Cassandra contact point \"" + p + "\" is not host:port (IMSYNC_CASSANDRA)");
      }
      out.add(p);
    }
    if (out.isEmpty()) throw new IllegalArgumentException("no Cassandra contact point (IMSYNC_CASSANDRA)");
    return out;
  }
}
