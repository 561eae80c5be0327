package imsync.http;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.HttpResponse;
import akka.persistence.cassandra.query.javadsl.CassandraReadJournal;
import akka.persistence.query.EventEnvelope;
import akka.persistence.query.PersistenceQuery;
import akka.persistence.typed.PersistenceId;
import akka.stream.javadsl.Sink;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.account.AccountEntity;
import imsync.core.AccountEvent;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The journal's events that touched one session of an account, newest first: "why is this unread, why is it
 * here". Reads what the journal still holds (older rows go with snapshots) through Akka Persistence Query, and
 * only the account's latest {@code scanRows} rows: a support view, O(rows read), never the whole history of a
 * huge account. Versions are counted back from the account's version at its last stored row.
 */
final class SessionHistory {
  private static final ObjectMapper EVENTS = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

  private final ActorSystem<?> system;
  private final Accounts accounts;
  private final int scanRows;
  private final Supplier<HttpResponse> unavailable;
  private final CassandraReadJournal journal;

  SessionHistory(ActorSystem<?> system, Accounts accounts, int scanRows, Supplier<HttpResponse> unavailable) {
    this.system = system;
    this.accounts = accounts;
    this.scanRows = scanRows;
    this.unavailable = unavailable;
    this.journal = PersistenceQuery.get(system.classicSystem())
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
  }

  CompletionStage<HttpResponse> of(String accountId, String sessionId, int limit) {
    return accounts.ask(accountId, AccountEntity.GetStats::new).thenComposeAsync(reply -> {
      if (!(reply instanceof AccountEntity.StatsReply stats)) return CompletableFuture.completedFuture(unavailable.get());
      long highest = stats.lastSequenceNr();
      long from = Math.max(1, highest - scanRows + 1);
      if (highest < 1) return CompletableFuture.completedFuture(HttpSupport.ok(render(accountId, sessionId, limit, from, highest, stats, List.of())));
      return journal.currentEventsByPersistenceId(PersistenceId.of(AccountEntity.TYPE_KEY.name(), accountId).id(), from, highest)
          .runWith(Sink.seq(), system)
          .thenApplyAsync(rows -> HttpSupport.ok(render(accountId, sessionId, limit, from, highest, stats, rows)), HttpSupport.IN_PLACE);
    }, HttpSupport.IN_PLACE).handleAsync((r, failure) -> failure == null ? r : unavailable.get(), HttpSupport.IN_PLACE);
  }

  private static ObjectNode render(String accountId, String sessionId, int limit, long from, long highest,
                                   AccountEntity.StatsReply stats, List<EventEnvelope> rows) {
    ObjectNode n = JsonViews.object();
    n.put("account_id", accountId);
    n.put("session_id", sessionId);
    n.put("version", stats.version());
    n.put("highest_sequence_nr", highest);
    n.put("scanned_from_sequence_nr", from);
    n.put("limit", limit);
    var events = n.putArray("events");
    long version = stats.version();
    int found = 0;
    for (int r = rows.size() - 1; r >= 0 && found < limit; r--) {
      EventEnvelope row = rows.get(r);
      if (!(row.event() instanceof AccountEvent event)) continue;
      List<AccountEvent> changes = event instanceof AccountEvent.Batch b ? b.events() : List.of(event);
      for (int i = changes.size() - 1; i >= 0 && found < limit; i--) {
        AccountEvent e = changes.get(i);
        long v = e.raisesVersion() ? version-- : -1;
        if (!touches(e, sessionId)) continue;
        ObjectNode o = events.addObject();
        o.put("sequence_nr", row.sequenceNr());
        if (v >= 0) o.put("version", v);
        o.put("type", typeName(e));
        ObjectNode fields = EVENTS.valueToTree(e);
        fields.remove("t"); // the CBOR type tag
        o.setAll(fields);
        found++;
      }
    }
    return n;
  }

  static boolean touches(AccountEvent e, String sid) {
    if (e instanceof AccountEvent.MessageIngested x) return x.sessionId().equals(sid);
    if (e instanceof AccountEvent.SessionUpdated x) return x.sessionId().equals(sid);
    if (e instanceof AccountEvent.SessionRemoved x) return x.sessionId().equals(sid);
    if (e instanceof AccountEvent.ReadMarked x) return x.sessionId().equals(sid);
    if (e instanceof AccountEvent.MarkedUnread x) return x.sessionId().equals(sid);
    if (e instanceof AccountEvent.DraftSet x) return x.sessionId().equals(sid);
    if (e instanceof AccountEvent.MuteSet x) return x.sessionId().equals(sid);
    if (e instanceof AccountEvent.BoxSet x) return x.sessionId().equals(sid);
    if (e instanceof AccountEvent.MemberAdded x) return x.sessionId().equals(sid);
    if (e instanceof AccountEvent.MemberRemoved x) return x.sessionId().equals(sid);
    if (e instanceof AccountEvent.PinnedSet x) return x.sessionIds().contains(sid);
    return false;
  }

  /** MessageIngested → message_ingested. */
  static String typeName(AccountEvent e) {
    return e.getClass().getSimpleName().replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase();
  }
}
