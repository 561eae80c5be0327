package imsync.metrics;

import akka.actor.AbstractExtensionId;
import akka.actor.ClassicActorSystemProvider;
import akka.actor.ExtendedActorSystem;
import akka.actor.Extension;
import akka.actor.ExtensionIdProvider;
import imsync.http.RouteTemplates;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * One node's metrics: a Prometheus registry per actor system (an Akka extension, so the management route,
 * the Cassandra session provider and the entities of that node find the same one; tests run several nodes
 * in one JVM). Every imsync meter is created once here; recording is a field access and an atomic add.
 */
public final class Metrics implements Extension {

  /** The extension id: {@code Metrics.get(system)}. */
  public static final class Id extends AbstractExtensionId<Metrics> implements ExtensionIdProvider {
    public static final Id INSTANCE = new Id();

    private Id() {}

    @Override
    public Metrics createExtension(ExtendedActorSystem system) {
      Metrics m = new Metrics(system.settings().config().getInt("akka.cluster.sharding.number-of-shards"));
      system.registerOnTermination(m::close);
      return m;
    }

    @Override
    public Id lookup() {
      return INSTANCE;
    }
  }

  public static Metrics get(ClassicActorSystemProvider system) {
    return Id.INSTANCE.get(system.classicSystem());
  }

  /** Histogram buckets of request and write times: from a cached answer to a long poll's deadline. */
  private static final Duration[] TIME_BUCKETS = {
      Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
      Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
      Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30)};

  private static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "OTHER"};
  private static final int STATUSES = 600;

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  /** Whether the HTTP hook records; off only for the benchmark's metrics-on/off comparison. */
  private volatile boolean httpHook = true;
  private final JvmGcMetrics gc = new JvmGcMetrics();

  /** imsync_http_requests_seconds by (route index, method index) then status: built on first use, then a lookup. */
  private final AtomicReferenceArray<AtomicReferenceArray<Timer>> httpTimers;
  /** Node-wide latency of answers other than long polls, with a p99 over the last minute (for operators). */
  private final Timer httpLatency;
  /** HTTP requests this node answered: a one-minute decaying rate. */
  private final com.codahale.metrics.Meter httpRate = new com.codahale.metrics.Meter();
  private final Counter rateLimited;
  private final Counter unavailable;
  private final Counter tooLarge;

  private final DistributionSummary syncSessions;
  private final Counter ingestAccepted;
  private final Counter ingestIgnored;
  private final Counter accountRestarts;
  private final Counter ingestShed;
  private final Counter ingestExpired;
  private final Counter ingestFailed;
  private final Timer journalWrite;
  private final Timer recovery;
  private final AtomicLong longPollsWaiting = new AtomicLong();
  private final AtomicLong activeAccounts = new AtomicLong();
  private final AtomicLong shardsHosted = new AtomicLong();
  private final ShardLoad shardLoad;
  private volatile java.util.function.LongSupplier streamsOpen = () -> 0;

  Metrics(int numberOfShards) {
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    httpTimers = new AtomicReferenceArray<>((RouteTemplates.ALL.size() + 1) * METHODS.length);
    httpLatency = Timer.builder("imsync.http.latency")
        .description("Time to answer a request, long polls excepted, over the last minute (node-wide)")
        .publishPercentiles(0.5, 0.99)
        .percentilePrecision(2)
        .distributionStatisticExpiry(Duration.ofMinutes(1))
        .distributionStatisticBufferLength(3)
        .register(registry);
    rateLimited = rejected("rate_limited");
    unavailable = rejected("unavailable");
    tooLarge = rejected("too_large");
    syncSessions = DistributionSummary.builder("imsync.sync.sessions")
        .description("Sessions in one sync answer")
        .serviceLevelObjectives(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
        .register(registry);
    ingestAccepted = ingest("accepted");
    ingestIgnored = ingest("ignored");
    accountRestarts = Counter.builder("imsync.account.restarts")
        .description("Accounts restarted after a failed journal or snapshot call (they recover with a backoff)").register(registry);
    ingestShed = ingest("shed");
    ingestExpired = ingest("expired");
    ingestFailed = ingest("failed");
    journalWrite = Timer.builder("imsync.journal.write")
        .description("From an account's persist to its callback: the journal write")
        .serviceLevelObjectives(TIME_BUCKETS)
        .register(registry);
    recovery = Timer.builder("imsync.recovery")
        .description("An account's recovery: from its start to RecoveryCompleted (snapshot and events)")
        .serviceLevelObjectives(TIME_BUCKETS)
        .register(registry);
    gauge("imsync.long.polls.waiting", "Long polls parked in this node's accounts", longPollsWaiting::get);
    gauge("imsync.active.accounts", "Accounts in memory on this node", activeAccounts::get);
    gauge("imsync.shards", "Account shards hosted by this node", shardsHosted::get);
    shardLoad = new ShardLoad(numberOfShards, com.codahale.metrics.Clock.defaultClock());
  }

  private Counter rejected(String reason) {
    return Counter.builder("imsync.rejected").description("Requests refused: 429, 503 and 413 answers")
        .tag("reason", reason).register(registry);
  }

  private Counter ingest(String outcome) {
    return Counter.builder("imsync.ingest.deliveries").description("Ingest deliveries to accounts, by outcome")
        .tag("outcome", outcome).register(registry);
  }

  /** A gauge read from {@code value} at scrape time. */
  public void gauge(String name, String description, Supplier<Number> value) {
    Gauge.builder(name, value).description(description).register(registry);
  }

  /** The node's open WebSocket streams (gauge imsync_streams_open). */
  public void streamsOpen(java.util.function.LongSupplier open) {
    streamsOpen = open;
    gauge("imsync.streams.open", "WebSocket streams open on this node", open::getAsLong);
  }

  public long streamsOpen() {
    return streamsOpen.getAsLong();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Prometheus text exposition of everything in the registry. */
  public String scrape() {
    return registry.scrape();
  }

  // ---------------------------------------------------------------- HTTP (the one hook in ApiRoutes)

  /**
   * Records one answered request. {@code routeIndex}: {@link RouteTemplates#indexOf}; {@code longPoll}: the
   * answer waited for a change, so it stays out of the node's latency percentiles.
   */
  public void httpRequest(int routeIndex, String method, int status, long nanos, boolean longPoll) {
    httpTimer(routeIndex, methodIndex(method), status).record(nanos, TimeUnit.NANOSECONDS);
    if (!longPoll) httpLatency.record(nanos, TimeUnit.NANOSECONDS);
    httpRate.mark();
    switch (status) {
      case 429 -> rateLimited.increment();
      case 503 -> unavailable.increment();
      case 413 -> tooLarge.increment();
      default -> { }
    }
  }

  private Timer httpTimer(int routeIndex, int methodIndex, int status) {
    int slot = routeIndex * METHODS.length + methodIndex;
    AtomicReferenceArray<Timer> byStatus = httpTimers.get(slot);
    if (byStatus == null) {
      httpTimers.compareAndSet(slot, null, new AtomicReferenceArray<>(STATUSES));
      byStatus = httpTimers.get(slot);
    }
    int s = status >= 0 && status < STATUSES ? status : 0;
    Timer t = byStatus.get(s);
    if (t == null) {
      // the registry hands out the same timer for the same name and tags, so a race builds it twice at worst
      t = Timer.builder("imsync.http.requests")
          .description("HTTP requests by route template, method and status")
          .tag("route", RouteTemplates.templateAt(routeIndex))
          .tag("method", METHODS[methodIndex])
          .tag("status", Integer.toString(status))
          .serviceLevelObjectives(TIME_BUCKETS)
          .register(registry);
      byStatus.set(s, t);
    }
    return t;
  }

  private static int methodIndex(String method) {
    return switch (method) {
      case "GET" -> 0;
      case "POST" -> 1;
      case "PUT" -> 2;
      case "DELETE" -> 3;
      case "PATCH" -> 4;
      case "HEAD" -> 5;
      case "OPTIONS" -> 6;
      default -> 7;
    };
  }

  /** Requests per second this node answered, over about the last minute. */
  public double httpRequestsPerSecond() {
    return httpRate.getOneMinuteRate();
  }

  /** p99 of this node's answers (long polls excepted) over about the last minute, in ms; NaN without traffic. */
  public double httpP99Millis() {
    for (var v : httpLatency.takeSnapshot().percentileValues()) {
      if (v.percentile() == 0.99) return v.value(TimeUnit.MILLISECONDS);
    }
    return Double.NaN;
  }

  // ---------------------------------------------------------------- accounts

  public void syncAnswered(int sessions) {
    syncSessions.record(sessions);
  }

  public void ingested(int accepted, int ignored) {
    if (accepted > 0) ingestAccepted.increment(accepted);
    if (ignored > 0) ingestIgnored.increment(ignored);
  }

  /** Deliveries an ingest call gave back to its caller for a retry: shed, expired (the call's deadline), failed. */
  public void ingestNotStored(String why, int deliveries) {
    switch (why) {
      case "shed" -> ingestShed.increment(deliveries);
      case "expired" -> ingestExpired.increment(deliveries);
      default -> ingestFailed.increment(deliveries);
    }
  }

  public void accountRestarted() {
    accountRestarts.increment();
  }

  public void journalWritten(long nanos) {
    journalWrite.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void recovered(long nanos) {
    recovery.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Long polls parked (+n) or answered (-n) on this node. */
  public void longPolls(int delta) {
    longPollsWaiting.addAndGet(delta);
  }

  public long longPollsWaiting() {
    return longPollsWaiting.get();
  }

  /** What the node's shard region last said it hosts (refreshed by {@link NodeStats}). */
  public void hosted(int shards, long accounts) {
    shardsHosted.set(shards);
    activeAccounts.set(accounts);
  }

  public long activeAccounts() {
    return activeAccounts.get();
  }

  public ShardLoad shardLoad() {
    return shardLoad;
  }

  private void close() {
    gc.close();
    registry.close();
  }

  public boolean httpHook() {
    return httpHook;
  }

  /** Turns the HTTP hook off or on (the benchmark measures its cost; production never turns it off). */
  public void setHttpHook(boolean on) {
    httpHook = on;
  }
}
