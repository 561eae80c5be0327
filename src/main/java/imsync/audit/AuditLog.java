package imsync.audit;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.stream.alpakka.cassandra.javadsl.CassandraSession;
import akka.stream.alpakka.cassandra.javadsl.CassandraSessionRegistry;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import com.typesafe.config.Config;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The operators' audit log (API v1.2): one Cassandra row per operator write (who: the token's {@code sub};
 * what: an action and its target; when: server time, epoch ms), read in time order, paged by time.
 *
 * <p>Rows are partitioned by calendar month (UTC), so no partition grows without bound; a small index of
 * the months that hold entries lets a read from any time start at the first month that has one. Entries of
 * the same millisecond are never split across pages (a page ends at a millisecond boundary), so paging by
 * {@code after = next} loses none. Schema: {@code cassandra/schema/audit.cql}.
 */
public final class AuditLog {
  private static final Executor DIRECT = Runnable::run;
  /** The month index is one small partition: months of operator history are few. */
  private static final int MONTHS_PARTITION = 0;
  /** A page never grows past this, even when more entries share its last millisecond. */
  static final int MAX_SAME_MS = 10_000;

  public record Entry(long ts, String operator, String action, String target, String detail) {}

  /** {@code next}: the {@code after} of the next page (the last entry's ts, or the asked {@code after} when empty). */
  public record Page(List<Entry> entries, long next, boolean hasMore) {}

  private final CassandraSession session;
  private final CompletionStage<Done> schemaReady;
  private final CompletionStage<PreparedStatement> insertEntry;
  private final CompletionStage<PreparedStatement> insertMonth;
  private final CompletionStage<PreparedStatement> selectMonths;
  private final CompletionStage<PreparedStatement> selectAfter;
  private final CompletionStage<PreparedStatement> selectAt;

  public AuditLog(ActorSystem<?> system) {
    Config config = system.settings().config().getConfig("imsync.audit");
    this.session = CassandraSessionRegistry.get(system).sessionFor(config.getString("session-config-path"));
    String keyspace = config.getString("keyspace");
    List<String> ddl = new ArrayList<>();
    if (config.getBoolean("keyspace-autocreate")) {
      ddl.add(imsync.storage.Schema.createKeyspace(keyspace, config.getString("local-datacenter"), config.getInt("replication-factor")));
    }
    if (config.getBoolean("tables-autocreate")) ddl.addAll(createTables(keyspace));
    // each statement tried until Cassandra takes it: a failure here would leave the log without its statements
    this.schemaReady = imsync.storage.Schema.create(ddl, session::executeDDL, () -> false);
    String log = keyspace + ".audit_log";
    String months = keyspace + ".audit_months";
    insertEntry = prepared("INSERT INTO " + log + " (month, ts, id, operator, action, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
    insertMonth = prepared("INSERT INTO " + months + " (part, month) VALUES (?, ?)");
    selectMonths = prepared("SELECT month FROM " + months + " WHERE part = ? AND month >= ?");
    selectAfter = prepared("SELECT ts, operator, action, target, detail FROM " + log + " WHERE month = ? AND ts > ? LIMIT ?");
    selectAt = prepared("SELECT ts, operator, action, target, detail FROM " + log + " WHERE month = ? AND ts = ? LIMIT " + MAX_SAME_MS);
  }

  /** The tables, as in cassandra/schema/audit.cql (that file is what production applies). */
  static List<String> createTables(String keyspace) {
    return List.of(
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".audit_log (month int, ts bigint, id timeuuid, operator text, "
            + "action text, target text, detail text, PRIMARY KEY (month, ts, id)) WITH CLUSTERING ORDER BY (ts ASC, id ASC)",
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".audit_months (part int, month int, PRIMARY KEY (part, month))");
  }

  private CompletionStage<PreparedStatement> prepared(String cql) {
    return schemaReady.thenComposeAsync(d -> session.prepare(cql), DIRECT);
  }

  /** Months since 1970-01 (UTC) of an epoch-ms time: the partition of an entry. */
  static int monthOf(long epochMillis) {
    ZonedDateTime t = Instant.ofEpochMilli(Math.max(0, epochMillis)).atZone(ZoneOffset.UTC);
    return (t.getYear() - 1970) * 12 + t.getMonthValue() - 1;
  }

  /** Stores one entry at server time now; completes once it is durable. */
  public CompletionStage<Done> record(String operator, String action, String target, String detail) {
    long ts = System.currentTimeMillis();
    int month = monthOf(ts);
    return insertMonth
        .thenComposeAsync(ps -> session.executeWrite(ps.bind(MONTHS_PARTITION, month)), DIRECT)
        .thenComposeAsync(d -> insertEntry, DIRECT)
        .thenComposeAsync(ps -> session.executeWrite(ps.bind(month, ts, Uuids.timeBased(), operator, action, target, detail)), DIRECT);
  }

  /** Entries with {@code ts > after}, oldest first, at most {@code limit} (more only to finish a millisecond). */
  public CompletionStage<Page> after(long after, int limit) {
    return selectMonths
        .thenComposeAsync(ps -> session.selectAll(ps.bind(MONTHS_PARTITION, monthOf(after))), DIRECT)
        .thenComposeAsync(rows -> {
          List<Integer> months = new ArrayList<>(rows.size());
          for (Row r : rows) months.add(r.getInt("month"));
          return collect(months, 0, after, limit, new ArrayList<>());
        }, DIRECT);
  }

  /** Reads month by month until limit + 1 entries are found (the extra one tells whether more follow). */
  private CompletionStage<Page> collect(List<Integer> months, int i, long after, int limit, List<Entry> found) {
    if (found.size() > limit || i == months.size()) return finish(months, i, after, limit, found);
    int month = months.get(i);
    int want = limit + 1 - found.size();
    return selectAfter
        .thenComposeAsync(ps -> session.selectAll(ps.bind(month, after, want)), DIRECT)
        .thenComposeAsync(rows -> {
          for (Row r : rows) found.add(entry(r));
          return collect(months, i + 1, after, limit, found);
        }, DIRECT);
  }

  private CompletionStage<Page> finish(List<Integer> months, int i, long after, int limit, List<Entry> found) {
    if (found.size() <= limit) return CompletableFuture.completedFuture(page(found, after, false));
    long lastTs = found.get(limit - 1).ts();
    if (found.get(limit).ts() != lastTs) return CompletableFuture.completedFuture(page(found.subList(0, limit), after, true));
    // the millisecond at the page's end goes whole into this page
    List<Entry> head = new ArrayList<>();
    for (Entry e : found) if (e.ts() < lastTs) head.add(e);
    return selectAt
        .thenComposeAsync(ps -> session.selectAll(ps.bind(monthOf(lastTs), lastTs)), DIRECT)
        .thenApplyAsync(rows -> {
          for (Row r : rows) head.add(entry(r));
          return page(head, after, true);
        }, DIRECT);
  }

  private static Page page(List<Entry> entries, long after, boolean hasMore) {
    long next = entries.isEmpty() ? after : entries.get(entries.size() - 1).ts();
    return new Page(List.copyOf(entries), next, hasMore);
  }

  private static Entry entry(Row r) {
    return new Entry(r.getLong("ts"), r.getString("operator"), r.getString("action"), r.getString("target"), r.getString("detail"));
  }
}
