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
import imsync.http.Accounts;
import imsync.http.ApiErrors;
import imsync.http.ApiException;
import imsync.http.Auth;
import imsync.http.HttpSupport;
import imsync.http.IngestRoutes;
import imsync.http.Json;
import imsync.http.JsonViews;
import imsync.http.RateLimiter;
import imsync.http.SyncRoutes;
import java.util.List;
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

  private final RedisInbox inbox;

  /** {@code accounts} is unused (the peer has no entities); kept so it is built like the other route classes. */
  public PeerRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter, RedisInbox inbox) {
    super(auth, accounts, settings, limiter);
    this.inbox = inbox;
  }

  public Route route() {
    return pathPrefix(PathMatchers.segment("bench").slash("redis").slash("v1"), () -> handleExceptions(exceptions(), () -> concat(
        path("ingest", () -> post(() -> authenticated(Auth.Scope.SERVICE, p -> jsonBody(false, body ->
            reply(inbox.ingest(IngestRoutes.parse(body)), r -> {
              ObjectNode n = JsonViews.object();
              n.put("accepted", r.accepted());
              n.put("ignored", r.ignored());
              return bytes(n);
            }))))),
        path("sync", () -> post(() -> authenticated(Auth.Scope.DEVICE, p -> jsonBody(true, body -> {
          SyncRoutes.SyncRequest req = syncRequest(body);
          return reply(inbox.sync(p.accountId(), req.cursor(), req.limit()), RedisInbox.SyncPage::toJson);
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

  /** The peer serves the whole-account view only, and does not long-poll. */
  private static SyncRoutes.SyncRequest syncRequest(JsonNode body) {
    SyncRoutes.SyncRequest req = SyncRoutes.SyncRequest.parse(body);
    if (req.groups() != null) throw ApiException.invalid("groups: the peer serves the whole-account view");
    if (req.waitMs() > 0) throw ApiException.invalid("wait_ms: the peer does not long-poll");
    return req;
  }
}
