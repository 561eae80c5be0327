package imsync.peer;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.Settings;
import imsync.core.Box;
import imsync.core.IngestItem;
import imsync.core.Limits;
import imsync.http.Accounts;
import imsync.http.ApiErrors;
import imsync.http.ApiException;
import imsync.http.Auth;
import imsync.http.HttpSupport;
import imsync.http.Json;
import imsync.http.JsonViews;
import imsync.http.RateLimiter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis inbox peer over HTTP, under {@code /bench/redis}: ingest and sync with the contract's bodies,
 * plus the group calls the benchmark preload and the folder-by-folder client need. Same auth, body limits
 * and error shape as the real API; the Redis work runs on {@link RedisInbox}'s own threads.
 */
public final class PeerRoutes extends HttpSupport {
  private static final Logger log = LoggerFactory.getLogger(PeerRoutes.class);
  private static final Set<String> KINDS = Set.of("direct", "group", "channel", "system");

  private final RedisInbox inbox;

  /** {@code accounts} is unused (the peer has no entities); kept so it is built like the other route classes. */
  public PeerRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter, RedisInbox inbox) {
    super(auth, accounts, settings, limiter);
    this.inbox = inbox;
  }

  public Route route() {
    return pathPrefix(PathMatchers.segment("bench").slash("redis").slash("v1"), () -> handleExceptions(exceptions(), () -> concat(
        path("ingest", () -> post(() -> authenticated(Auth.Scope.SERVICE, p -> jsonBody(false, body ->
            reply(inbox.ingest(parseIngest(body)), r -> {
              ObjectNode n = JsonViews.object();
              n.put("accepted", r.accepted());
              n.put("ignored", r.ignored());
              return bytes(n);
            }))))),
        path("sync", () -> post(() -> authenticated(Auth.Scope.DEVICE, p -> jsonBody(true, body -> {
          SyncRequest req = SyncRequest.parse(body);
          return reply(inbox.sync(p.accountId(), req.cursor, req.limit), RedisInbox.SyncPage::toJson);
        })))),
        pathPrefix("groups", () -> authenticated(Auth.Scope.DEVICE, p -> {
          String account = p.accountId();
          return concat(
              pathEnd(() -> concat(
                  get(() -> reply(inbox.groups(account), RedisInbox.GroupList::toJson)),
                  post(() -> jsonBody(false, body -> {
                    String gid = Json.optionalString(body, "group_id");
                    if (gid != null) {
                      Json.id(gid, Json.CUSTOM_GROUP_ID, "group_id");
                      if (Box.isBox(gid)) throw ApiException.invalid("group_id \"" + gid + "\" is reserved");
                    }
                    String name = Json.requireString(body, "name").trim();
                    if (name.isEmpty()) throw ApiException.invalid("name must not be empty");
                    Json.maxLength(name, 64, "name");
                    return reply(inbox.createGroup(account, gid, name), r -> {
                      ObjectNode n = JsonViews.object();
                      n.set("group", JsonViews.group(r.group()));
                      n.put("version", r.version());
                      return bytes(n);
                    });
                  })))),
              pathPrefix(PathMatchers.segment(), rawGid -> {
                String gid = groupId(rawGid, "group_id");
                return concat(
                    path("sessions", () -> concat(
                        get(() -> parameterOptional("limit", limitText -> parameterOptional("after", after ->
                            reply(inbox.groupSessions(account, gid, after.orElse(null), pageLimit(limitText)), RedisInbox.SessionsPage::toJson)))),
                        put(() -> jsonBody(false, body -> {
                          List<String> ids = sessionIds(body, 1, 10_000);
                          return reply(inbox.addMembers(account, gid, ids), r -> {
                            ObjectNode n = JsonViews.object();
                            n.set("group", JsonViews.group(r.group()));
                            n.put("added", r.added());
                            n.put("version", r.version());
                            return bytes(n);
                          });
                        })))),
                    path("pinned", () -> put(() -> jsonBody(false, body -> {
                      List<String> ids = sessionIds(body, 0, 1000);
                      return reply(inbox.setPinned(account, gid, ids), r -> {
                        ObjectNode n = JsonViews.object();
                        n.set("group", JsonViews.group(r.group()));
                        n.put("version", r.version());
                        return bytes(n);
                      });
                    }))));
              }));
        })))));
  }

  /** The ApiRoutes handler covers this route when it is mounted there; this one keeps it right on its own too. */
  private ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .match(ApiException.class, e -> complete(ApiErrors.of(e)))
        .match(PeerException.class, e -> complete(ApiErrors.of(e.code, e.getMessage())))
        .build();
  }

  /** Maps the inbox's answer: a PeerException to its contract error, any other failure (Redis) to 503. */
  private <T> Route reply(CompletionStage<T> result, Function<T, byte[]> render) {
    return completeWithFuture(result.handle((value, failure) -> {
      if (failure == null) {
        return HttpResponse.create().withStatus(StatusCodes.OK)
            .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, render.apply(value)));
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      if (cause instanceof PeerException e) return ApiErrors.of(e.code, e.getMessage());
      if (cause instanceof ApiException e) return ApiErrors.of(e);
      log.warn("redis inbox failed: {}", cause.toString());
      return unavailable();
    }));
  }

  private static byte[] bytes(JsonNode n) {
    try {
      return Json.MAPPER.writeValueAsBytes(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> sessionIds(JsonNode body, int min, int max) {
    if (!Json.present(body, "sessions")) throw ApiException.invalid("sessions is required");
    List<String> ids = Json.stringList(body.get("sessions"), "sessions", min, max);
    for (String id : ids) Json.id(id, Json.SESSION_ID, "sessions");
    return ids;
  }

  private static int pageLimit(Optional<String> text) {
    if (text.isEmpty()) return 50;
    try {
      int n = Integer.parseInt(text.get());
      if (n >= 1 && n <= 1000) return n;
    } catch (NumberFormatException ignored) {
      // falls through to the error
    }
    throw ApiException.invalid("limit must be an integer between 1 and 1000");
  }

  /** A sync body as /v1/sync takes it; the peer serves only the whole-account view and no long poll. */
  record SyncRequest(String cursor, int limit) {
    static SyncRequest parse(JsonNode body) {
      String cursor = null;
      if (Json.present(body, "cursor")) {
        JsonNode c = body.get("cursor");
        if (!c.isTextual()) throw ApiException.invalid("cursor must be a string or null");
        cursor = c.textValue();
      }
      Long limit = Json.optionalLong(body, "limit", 1, 1000);
      if (Json.present(body, "groups")) throw ApiException.invalid("groups: the peer serves the whole-account view");
      Long waitMs = Json.optionalLong(body, "wait_ms", 0, 30_000);
      if (waitMs != null && waitMs > 0) throw ApiException.invalid("wait_ms: the peer does not long-poll");
      return new SyncRequest(cursor, limit == null ? 200 : limit.intValue());
    }
  }

  // ---------------------------------------------------------------- ingest body, by IngestRoutes' rules

  /** Validates every event; returns each recipient's items in call order. */
  static Map<String, List<IngestItem>> parseIngest(JsonNode body) {
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
        if (items.isEmpty() || items.get(items.size() - 1) != item) items.add(item); // an account named twice gets it once
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
