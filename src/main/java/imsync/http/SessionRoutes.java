package imsync.http;

import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.core.Box;

/** Reading one session and every terminal action on it (device scope, own account only). */
public final class SessionRoutes extends HttpSupport {

  public SessionRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter) {
    super(auth, accounts, settings, limiter);
  }

  public Route route() {
    return pathPrefix(PathMatchers.segment("v1").slash("sessions").slash(PathMatchers.segment()), rawSid ->
        authenticated(Auth.Scope.DEVICE, p -> {
          String sid = sessionId(rawSid);
          String account = p.accountId();
          return concat(
              pathEnd(() -> concat(
                  get(() -> askAccount(account, r -> new AccountEntity.GetSession(sid, r), SessionRoutes::session)),
                  delete(() -> askAccount(account, r -> new AccountEntity.DeleteSession(sid, r), reply -> {
                    var rm = (AccountEntity.SessionRemovedReply) reply;
                    ObjectNode n = JsonViews.object();
                    n.put("removed_session", rm.sessionId());
                    n.put("version", rm.version());
                    return n;
                  })))),
              path("read", () -> post(() -> jsonBody(false, body -> {
                long seq = Json.requireLong(body, "seq", 0, Long.MAX_VALUE);
                return askAccount(account, r -> new AccountEntity.MarkRead(sid, seq, r), SessionRoutes::session);
              }))),
              path("unread", () -> post(() -> jsonBody(true, body ->
                  askAccount(account, r -> new AccountEntity.MarkUnread(sid, r), SessionRoutes::session)))),
              path("draft", () -> put(() -> jsonBody(false, body -> {
                String text = Json.maxLength(Json.requireString(body, "text"), 4096, "text");
                return askAccount(account, r -> new AccountEntity.SetDraft(sid, text, r), SessionRoutes::session);
              }))),
              path("mute", () -> put(() -> jsonBody(false, body -> {
                long until = Json.requireLong(body, "until", 0, Long.MAX_VALUE);
                return askAccount(account, r -> new AccountEntity.SetMute(sid, until, r), SessionRoutes::session);
              }))),
              path("box", () -> put(() -> jsonBody(false, body -> {
                String box = Json.requireString(body, "box");
                if (!Box.isBox(box)) throw ApiException.invalid("box must be \"inbox\" or \"archive\"");
                return askAccount(account, r -> new AccountEntity.SetBox(sid, box, r), SessionRoutes::session);
              }))));
        }));
  }

  static JsonNode session(AccountEntity.Reply reply) {
    var s = (AccountEntity.SessionReply) reply;
    ObjectNode n = JsonViews.object();
    n.set("session", JsonViews.session(s.session()));
    n.put("version", s.version());
    return n;
  }
}
