package imsync.http;

import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.core.Group;
import imsync.core.Session;
import java.util.ArrayList;
import java.util.List;

/** {@code POST /v1/sync}: one batch from the cursor, each session at most once. */
public final class SyncRoutes extends HttpSupport {

  public SyncRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter) {
    super(auth, accounts, settings, limiter);
  }

  public Route route() {
    return path(PathMatchers.segment("v1").slash("sync"), () -> post(() ->
        authenticated(Auth.Scope.DEVICE, p -> jsonBody(true, body -> {
          SyncRequest req = SyncRequest.parse(body);
          return completeWithFuture(toResponse(accounts.ask(p.accountId(),
              replyTo -> new AccountEntity.Sync(req.cursor, req.groups, req.limit, req.waitMs, p.deviceId(), replyTo),
              java.time.Duration.ofMillis(req.waitMs)), r -> render((AccountEntity.SyncReply) r))
              .thenApplyAsync(resp -> req.waitMs > 0 ? resp.addAttribute(LONG_POLL, Boolean.TRUE) : resp, IN_PLACE));
        }))));
  }

  /** A validated sync request body. */
  public record SyncRequest(String cursor, int limit, List<String> groups, long waitMs) {
    public static SyncRequest parse(JsonNode body) {
      String cursor = null;
      if (Json.present(body, "cursor")) {
        JsonNode c = body.get("cursor");
        if (!c.isTextual()) throw ApiException.invalid("cursor must be a string or null");
        cursor = c.textValue();
      }
      Long limit = Json.optionalLong(body, "limit", 1, 1000);
      List<String> groups = null;
      if (Json.present(body, "groups")) {
        groups = new ArrayList<>();
        for (String g : Json.stringList(body.get("groups"), "groups", 0, 64)) groups.add(groupId(g, "groups"));
      }
      Long waitMs = Json.optionalLong(body, "wait_ms", 0, 30_000);
      return new SyncRequest(cursor, limit == null ? 200 : limit.intValue(), groups, waitMs == null ? 0 : waitMs);
    }
  }

  static ObjectNode render(AccountEntity.SyncReply r) {
    ObjectNode n = JsonViews.object();
    n.put("cursor", r.cursor());
    n.put("has_more", r.hasMore());
    n.put("reset", r.reset());
    n.put("version", r.version());
    var groups = n.putArray("groups");
    for (Group g : r.groups()) groups.add(JsonViews.group(g));
    JsonViews.strings(n.putArray("removed_groups"), r.removedGroups());
    var sessions = n.putArray("sessions");
    for (Session s : r.sessions()) sessions.add(JsonViews.session(s));
    JsonViews.strings(n.putArray("removed_sessions"), r.removedSessions());
    return n;
  }
}
