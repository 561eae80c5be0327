package imsync.http;

import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.core.Box;
import imsync.json.JsonOut;

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
                  delete(() -> askAccount(account, r -> new AccountEntity.DeleteSession(sid, r), (reply, o) -> {
                    var rm = (AccountEntity.SessionRemovedReply) reply;
                    o.startObject().field("removed_session", rm.sessionId()).field("version", rm.version()).endObject();
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

  static void session(AccountEntity.Reply reply, JsonOut o) {
    var s = (AccountEntity.SessionReply) reply;
    o.startObject().session("session", s.session()).field("version", s.version()).endObject();
  }
}
