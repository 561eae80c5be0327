package imsync.http;

import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.JsonNode;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.core.IngestItem;
import imsync.core.Limits;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code POST /v1/ingest} (service scope): validates the whole call first, splits it per recipient account
 * (one batch per account, in event order) and hands the parts to the node's {@link IngestDispatcher}, which
 * bounds how many are stored at once. {@code 200} only when every part is stored. Otherwise {@code 503} with
 * Retry-After, and the body names the deliveries that were not stored ({@code retry}: event index and
 * account ids), so a caller can resend just those; resending the whole call is correct too (idempotent).
 * A call that does not fit the dispatcher's queue is shed whole, before any work.
 */
public final class IngestRoutes extends HttpSupport {
  private static final Set<String> KINDS = Set.of("direct", "group", "channel", "system");

  private final IngestDispatcher dispatcher;

  public IngestRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter, IngestDispatcher dispatcher) {
    super(auth, accounts, settings, limiter);
    this.dispatcher = dispatcher;
  }

  public Route route() {
    return path(PathMatchers.segment("v1").slash("ingest"), () -> post(() ->
        authenticated(Auth.Scope.SERVICE, p -> jsonBody(false, body -> {
          Parsed call = parseCall(body);
          return completeWithFuture(deliver(call));
        }))));
  }

  private CompletionStage<HttpResponse> deliver(Parsed call) {
    int parts = call.recipients().size();
    if (!dispatcher.admits(parts)) {
      dispatcher.shedWhole(call.deliveries());
      return CompletableFuture.completedFuture(partial(call, List.copyOf(call.recipients().keySet()), 0, 0,
          "this node is at its ingest capacity; retry"));
    }
    long deadline = dispatcher.deadlineFromNow();
    List<String> accountIds = new ArrayList<>(parts);
    List<CompletableFuture<IngestDispatcher.Outcome>> outcomes = new ArrayList<>(parts);
    call.recipients().forEach((account, r) -> {
      accountIds.add(account);
      outcomes.add(dispatcher.submit(account, r.items(), deadline).toCompletableFuture());
    });
    return CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new)).handleAsync((ignored, failure) -> {
      int accepted = 0;
      int ignoredCount = 0;
      List<String> retry = new ArrayList<>();
      for (int i = 0; i < outcomes.size(); i++) {
        IngestDispatcher.Outcome o = outcomes.get(i).getNow(null);
        if (o instanceof IngestDispatcher.Stored s) {
          accepted += s.accepted();
          ignoredCount += s.ignored();
        } else {
          retry.add(accountIds.get(i));
        }
      }
      if (!retry.isEmpty()) return partial(call, retry, accepted, ignoredCount, "some recipients could not be reached in time; retry the deliveries in retry");
      int a = accepted;
      int ig = ignoredCount;
      return ok(o -> o.startObject().field("accepted", a).field("ignored", ig).endObject());
    }, IN_PLACE);
  }

  /**
   * 503 with Retry-After in the contract's error shape, plus what was stored ({@code accepted}, {@code ignored})
   * and what was not: {@code retry}, the call's events (by index) with the recipients that did not get them.
   */
  private HttpResponse partial(Parsed call, List<String> notStored, int accepted, int ignored, String message) {
    java.util.TreeMap<Integer, List<String>> byEvent = new java.util.TreeMap<>();
    for (String account : notStored) {
      for (int e : call.recipients().get(account).events()) byEvent.computeIfAbsent(e, k -> new ArrayList<>()).add(account);
    }
    byte[] body = imsync.json.JsonOut.write(o -> {
      o.startObject().startObject("error").field("code", "unavailable").field("message", message).endObject();
      o.field("accepted", accepted).field("ignored", ignored);
      o.startArray("retry");
      byEvent.forEach((event, accounts) -> {
        o.startObject().field("event", event).startArray("account_ids");
        for (String a : accounts) o.value(a);
        o.endArray().endObject();
      });
      o.endArray().endObject();
    });
    return ApiErrors.unavailable(body, settings.retryAfterSeconds());
  }

  /** One recipient's part of a call: its items in call order and the index of the event each came from. */
  public record Recipient(List<IngestItem> items, List<Integer> events) {}

  /** A validated call: its recipients in first-seen order. */
  public record Parsed(Map<String, Recipient> recipients, int deliveries) {}

  /** Validates every event; returns each recipient's items in call order. */
  public static Map<String, List<IngestItem>> parse(JsonNode body) {
    Map<String, List<IngestItem>> perAccount = new LinkedHashMap<>();
    parseCall(body).recipients().forEach((account, r) -> perAccount.put(account, r.items()));
    return perAccount;
  }

  /** Validates every event; returns each recipient's items in call order, with the events they came from. */
  public static Parsed parseCall(JsonNode body) {
    if (!Json.present(body, "events")) throw ApiException.invalid("events is required");
    JsonNode events = body.get("events");
    if (!events.isArray()) throw ApiException.invalid("events must be an array");
    if (events.size() < 1 || events.size() > 1000) throw ApiException.invalid("events must hold 1 to 1000 events");
    Map<String, Recipient> perAccount = new LinkedHashMap<>();
    int deliveries = 0;
    for (int i = 0; i < events.size(); i++) {
      String at = "events[" + i + "].";
      JsonNode e = events.get(i);
      if (!e.isObject()) throw ApiException.invalid("events[" + i + "] must be an object");
      IngestItem item = item(e, at);
      if (!Json.present(e, "account_ids")) throw ApiException.invalid(at + "account_ids is required");
      List<String> recipients = Json.stringList(e.get("account_ids"), at + "account_ids", 1, 10_000);
      for (String account : recipients) {
        Json.id(account, Json.ACCOUNT_ID, at + "account_ids");
        Recipient r = perAccount.computeIfAbsent(account, k -> new Recipient(new ArrayList<>(2), new ArrayList<>(2)));
        // the same account named twice in one event gets it once
        if (r.items().isEmpty() || r.items().get(r.items().size() - 1) != item) {
          r.items().add(item);
          r.events().add(i);
          deliveries++;
        }
      }
    }
    return new Parsed(perAccount, deliveries);
  }

  private static IngestItem item(JsonNode e, String at) {
    String type = Json.requireString(e, "type").trim();
    String sid = Json.id(Json.requireString(e, "session_id"), Json.SESSION_ID, at + "session_id");
    long ts = Json.requireLong(e, "ts", 0, Long.MAX_VALUE);
    switch (type) {
      case "message" -> {
        long seq = Json.requireLong(e, "seq", 1, Long.MAX_VALUE);
        String sender = Json.id(Json.requireString(e, "sender_id"), Json.ACCOUNT_ID, at + "sender_id");
        String preview = Json.optionalString(e, "preview");
        List<String> mentions = List.of();
        if (Json.present(e, "mentions")) {
          mentions = Json.stringList(e.get("mentions"), at + "mentions", 0, 10_000);
          for (String m : mentions) Json.id(m, Json.ACCOUNT_ID, at + "mentions");
        }
        return new IngestItem.Message(sid, kind(e, at), title(e, at), seq, sender,
            preview == null ? "" : Json.truncateCodePoints(preview, Limits.PREVIEW_MAX_CODE_POINTS), ts, List.copyOf(mentions));
      }
      case "session_update" -> {
        return new IngestItem.Update(sid, kind(e, at), title(e, at), ts);
      }
      case "session_removed" -> {
        return new IngestItem.Removed(sid, ts);
      }
      default -> throw ApiException.invalid(at + "type must be message, session_update or session_removed");
    }
  }

  private static String kind(JsonNode e, String at) {
    String kind = Json.optionalString(e, "session_kind");
    if (kind != null && !KINDS.contains(kind)) throw ApiException.invalid(at + "session_kind must be direct, group, channel or system");
    return kind;
  }

  private static String title(JsonNode e, String at) {
    String title = Json.optionalString(e, "title");
    return title == null ? null : Json.maxLength(title, 256, at + "title");
  }
}
