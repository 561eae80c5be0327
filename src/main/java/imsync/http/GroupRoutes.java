package imsync.http;

import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.core.EntriesPage;
import imsync.core.Group;
import imsync.core.SmartRule;
import imsync.core.SortEntry;
import imsync.json.JsonOut;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/** Groups, their members and pins, and paging a group's mapping list (device scope). */
public final class GroupRoutes extends HttpSupport {

  public GroupRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter) {
    super(auth, accounts, settings, limiter);
  }

  public Route route() {
    return pathPrefix(PathMatchers.segment("v1").slash("groups"), () -> concat(
        pathEnd(() -> authenticated(Auth.Scope.DEVICE, p -> concat(
            get(() -> askAccount(p.accountId(), AccountEntity.GetGroups::new, (reply, o) -> {
              var g = (AccountEntity.GroupsReply) reply;
              o.startObject().startArray("groups");
              for (Group group : g.groups()) o.group(group);
              o.endArray().field("version", g.version()).endObject();
            })),
            post(() -> jsonBody(false, body -> {
              String gid = Json.optionalString(body, "group_id");
              if (gid != null) {
                Json.id(gid, Json.CUSTOM_GROUP_ID, "group_id");
                if (imsync.core.Box.isBox(gid)) throw ApiException.invalid("group_id \"" + gid + "\" is reserved");
              }
              String name = groupName(Json.requireString(body, "name"));
              SmartRule rule = SmartRules.optional(body);
              return askAccount(p.accountId(), r -> new AccountEntity.CreateGroup(gid, name, rule, r), GroupRoutes::group);
            }))))),
        pathPrefix(PathMatchers.segment(), rawGid -> authenticated(Auth.Scope.DEVICE, p -> {
          String gid = groupId(rawGid, "group_id");
          String account = p.accountId();
          return concat(
              pathEnd(() -> concat(
                  patch(() -> jsonBody(false, body -> {
                    String name = Json.present(body, "name") ? groupName(Json.requireString(body, "name")) : null;
                    Long position = Json.optionalLong(body, "position", 2, Integer.MAX_VALUE);
                    Integer pos = position == null ? null : position.intValue();
                    SmartRule rule = SmartRules.optional(body);
                    return askAccount(account, r -> new AccountEntity.PatchGroup(gid, name, pos, rule, r), GroupRoutes::group);
                  })),
                  delete(() -> askAccount(account, r -> new AccountEntity.DeleteGroup(gid, r), (reply, o) -> {
                    var rm = (AccountEntity.GroupRemovedReply) reply;
                    o.startObject().field("removed_group", rm.groupId()).field("version", rm.version()).endObject();
                  })))),
              path("entries", () -> get(() -> parameterOptional("limit", limitText -> parameterOptional("after", afterText -> {
                int limit = pageLimit(limitText);
                EntriesPage.Position after = afterText.map(GroupRoutes::decodePosition).orElse(null);
                return askAccount(account, r -> new AccountEntity.GetEntries(gid, after, limit, r), GroupRoutes::entries);
              })))),
              // An addition to the contract: many sessions into a custom group in one action.
              path("sessions", () -> put(() -> jsonBody(false, body -> {
                if (!Json.present(body, "sessions")) throw ApiException.invalid("sessions is required");
                List<String> ids = Json.stringList(body.get("sessions"), "sessions", 1, 1000);
                for (String id : ids) Json.id(id, Json.SESSION_ID, "sessions");
                return askAccount(account, r -> new AccountEntity.AddMembers(gid, ids, r), (reply, o) -> {
                  var m = (AccountEntity.MembersAddedReply) reply;
                  o.startObject().group("group", m.group()).field("added", m.added()).field("version", m.version()).endObject();
                });
              }))),
              path(PathMatchers.segment("sessions").slash(PathMatchers.segment()), rawSid -> {
                String sid = sessionId(rawSid);
                return concat(
                    put(() -> askAccount(account, r -> new AccountEntity.AddMember(gid, sid, r), GroupRoutes::member)),
                    delete(() -> askAccount(account, r -> new AccountEntity.RemoveMember(gid, sid, r), GroupRoutes::member)));
              }),
              path("pinned", () -> put(() -> jsonBody(false, body -> {
                if (!Json.present(body, "sessions")) throw ApiException.invalid("sessions is required");
                List<String> ids = Json.stringList(body.get("sessions"), "sessions", 0, 1000);
                for (String id : ids) Json.id(id, Json.SESSION_ID, "sessions");
                return askAccount(account, r -> new AccountEntity.SetPinned(gid, ids, r), GroupRoutes::group);
              }))));
        }))));
  }

  private static String groupName(String raw) {
    String name = raw.trim();
    if (name.isEmpty()) throw ApiException.invalid("name must not be empty");
    return Json.maxLength(name, 64, "name");
  }

  /** Entry-page tokens: {@code p<index>} inside the pinned ids, {@code t<sort_key>:<session_id>} after them. */
  static String encodePosition(EntriesPage.Position pos) {
    String raw = pos.inPinned() ? "p" + pos.pinnedIndex() : "t" + pos.after().sortKey() + ":" + pos.after().sessionId();
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  static EntriesPage.Position decodePosition(String token) {
    try {
      String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (raw.startsWith("p")) {
        int index = Integer.parseInt(raw.substring(1));
        if (index >= 0) return EntriesPage.Position.pinned(index);
      } else if (raw.startsWith("t")) {
        int colon = raw.indexOf(':');
        long key = Long.parseLong(raw.substring(1, colon));
        String sid = raw.substring(colon + 1);
        if (Json.SESSION_ID.matcher(sid).matches()) return EntriesPage.Position.tail(new SortEntry(key, sid));
      }
    } catch (RuntimeException ignored) {
      // falls through to the error
    }
    throw ApiException.invalid("after is not a token this server issued");
  }

  static void group(AccountEntity.Reply reply, JsonOut o) {
    var g = (AccountEntity.GroupReply) reply;
    o.startObject().group("group", g.group()).field("version", g.version()).endObject();
  }

  static void member(AccountEntity.Reply reply, JsonOut o) {
    var m = (AccountEntity.MemberReply) reply;
    o.startObject().session("session", m.session()).group("group", m.group()).field("version", m.version()).endObject();
  }

  static void entries(AccountEntity.Reply reply, JsonOut o) {
    var e = (AccountEntity.EntriesReply) reply;
    o.startObject().startArray("entries");
    for (EntriesPage.Entry entry : e.entries()) {
      o.startObject()
          .field("session_id", entry.sessionId())
          .field("sort_key", entry.sortKey())
          .field("pinned", entry.pinned())
          .endObject();
    }
    o.endArray();
    if (e.next() == null) o.nullField("next");
    else o.field("next", encodePosition(e.next()));
    o.field("version", e.version()).endObject();
  }
}
