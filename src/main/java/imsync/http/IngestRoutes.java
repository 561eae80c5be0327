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
 * (one batch per account, in event order), asks all accounts in parallel and answers only when every one
 * has stored its batch. Any failure answers 503: ingest is idempotent, so the caller simply retries.
 */
public final class IngestRoutes extends HttpSupport {
  private static final Set<String> KINDS = Set.of("direct", "group", "channel", "system");

  public IngestRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter) {
    super(auth, accounts, settings, limiter);
  }

  public Route route() {
    return path(PathMatchers.segment("v1").slash("ingest"), () -> post(() ->
        authenticated(Auth.Scope.SERVICE, p -> jsonBody(false, body -> {
          Map<String, List<IngestItem>> perAccount = parse(body);
          return completeWithFuture(deliver(perAccount));
        }))));
  }

  private CompletionStage<HttpResponse> deliver(Map<String, List<IngestItem>> perAccount) {
    List<CompletableFuture<AccountEntity.Reply>> asks = new ArrayList<>(perAccount.size());
    perAccount.forEach((account, items) ->
        asks.add(accounts.ask(account, r -> new AccountEntity.Ingest(List.copyOf(items), r)).toCompletableFuture()));
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).handleAsync((ignored, failure) -> {
      if (failure != null) return unavailable();
      int accepted = 0;
      int ignoredCount = 0;
      for (CompletableFuture<AccountEntity.Reply> f : asks) {
        if (!(f.join() instanceof AccountEntity.IngestReply r)) return unavailable();
        accepted += r.accepted();
        ignoredCount += r.ignored();
      }
      int a = accepted;
      int i = ignoredCount;
      return ok(o -> o.startObject().field("accepted", a).field("ignored", i).endObject());
    }, IN_PLACE);
  }

  /** Validates every event; returns each recipient's items in call order. */
  public static Map<String, List<IngestItem>> parse(JsonNode body) {
    if (!Json.present(body, "events")) throw ApiException.invalid("events is required");
    JsonNode events = body.get("events");
    if (!events.isArray()) throw ApiException.invalid("events must be an array");
    if (events.size() < 1 || events.size() > 1000) throw ApiException.invalid("events must hold 1 to 1000 events");
    Map<String, List<IngestItem>> perAccount = new LinkedHashMap<>();
    for (int i = 0; i < events.size(); i++) {
      String at = "events[" + i + "].";
      JsonNode e = events.get(i);
      if (!e.isObject()) throw ApiException.invalid("events[" + i + "] must be an object");
      IngestItem item = item(e, at);
      if (!Json.present(e, "account_ids")) throw ApiException.invalid(at + "account_ids is required");
      List<String> recipients = Json.stringList(e.get("account_ids"), at + "account_ids", 1, 10_000);
      for (String account : recipients) {
        Json.id(account, Json.ACCOUNT_ID, at + "account_ids");
        List<IngestItem> items = perAccount.computeIfAbsent(account, k -> new ArrayList<>());
        // the same account named twice in one event gets it once
        if (items.isEmpty() || items.get(items.size() - 1) != item) items.add(item);
      }
    }
    return perAccount;
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
