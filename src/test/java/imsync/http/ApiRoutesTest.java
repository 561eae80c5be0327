package imsync.http;

import static imsync.testkit.Api.deviceToken;
import static imsync.testkit.Api.serviceToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.util.Base64URL;
import imsync.testkit.Api;
import imsync.testkit.OnTestNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every endpoint of the contract over real HTTP, on a node whose journal is the test run's Cassandra. */
class ApiRoutesTest extends OnTestNode {
  private static String account() {
    return Api.uniqueAccount("acct");
  }

  private static void assertError(Api.Response r, int status, String code) {
    Api.assertError(r, status, code);
  }

  @Test
  void ingestThenFirstSyncThenDelta() {
    String a = account();
    String t = deviceToken(a, "phone");
    JsonNode ingest = api.message("dm:bob", 42, "bob", 1_764_400_000_000L, a);
    assertEquals(1, ingest.get("accepted").asInt());
    assertEquals(0, ingest.get("ignored").asInt());
    assertEquals(1, api.message("dm:bob", 42, "bob", 1_764_400_000_000L, a).get("ignored").asInt(), "idempotent");

    Api.Response first = api.post("/v1/sync", t, "{\"cursor\": null, \"limit\": 200, \"groups\": null, \"wait_ms\": 0}");
    assertEquals(200, first.status(), first.raw().body());
    JsonNode body = first.body();
    assertFalse(body.get("has_more").asBoolean());
    assertFalse(body.get("reset").asBoolean());
    assertEquals(1, body.get("version").asLong());
    JsonNode s = body.get("sessions").get(0);
    assertEquals("dm:bob", s.get("session_id").asText());
    assertEquals("direct", s.get("kind").asText());
    assertEquals(42, s.get("last_message").get("seq").asLong());
    assertEquals("bob", s.get("last_message").get("sender_id").asText());
    assertEquals(41, s.get("read_seq").asLong());
    assertEquals(1, s.get("unread_count").asLong());
    assertTrue(s.get("draft").isNull());
    assertEquals("inbox", s.get("box").asText());
    assertEquals(1_764_400_000_000L, s.get("sort_key").asLong());
    assertEquals(2, body.get("groups").size());
    JsonNode inbox = body.get("groups").get(0);
    assertEquals("inbox", inbox.get("group_id").asText());
    assertEquals("system", inbox.get("kind").asText());
    assertEquals("Inbox", inbox.get("name").asText());
    assertEquals(1, inbox.get("unread_messages").asLong());

    String cursor = body.get("cursor").asText();
    Api.Response empty = api.post("/v1/sync", t, "{\"cursor\":\"" + cursor + "\"}");
    assertEquals(0, empty.body().get("sessions").size());
    assertEquals(0, empty.body().get("groups").size());

    api.message("dm:carol", 1, "carol", 1_764_400_001_000L, a);
    Api.Response delta = api.post("/v1/sync", t, "{\"cursor\":\"" + cursor + "\"}");
    assertEquals(1, delta.body().get("sessions").size());
    assertEquals("dm:carol", delta.body().get("sessions").get(0).get("session_id").asText());
    assertEquals(List.of("inbox"), ids(delta.body().get("groups"), "group_id"));
  }

  @Test
  void firstSyncPagesWithoutRepeatsAndInRecencyOrder() {
    String a = account();
    String t = deviceToken(a, "phone");
    StringBuilder events = new StringBuilder();
    for (int i = 0; i < 25; i++) {
      if (i > 0) events.append(',');
      events.append("{\"type\":\"message\",\"account_ids\":[\"").append(a).append("\"],\"session_id\":\"s").append(i)
          .append("\",\"seq\":1,\"sender_id\":\"x\",\"preview\":\"p\",\"ts\":").append(1000 + i).append('}');
    }
    Api.Response in = api.post("/v1/ingest", serviceToken(), "{\"events\":[" + events + "]}");
    assertEquals(25, in.body().get("accepted").asInt());
    List<String> seen = new ArrayList<>();
    String cursor = null;
    for (int page = 0; page < 10; page++) {
      Api.Response r = api.post("/v1/sync", t, "{\"limit\": 7" + (cursor == null ? "" : ",\"cursor\":\"" + cursor + "\"") + "}");
      assertTrue(r.body().get("sessions").size() <= 7);
      seen.addAll(ids(r.body().get("sessions"), "session_id"));
      cursor = r.body().get("cursor").asText();
      if (!r.body().get("has_more").asBoolean()) break;
    }
    assertEquals(25, seen.size());
    assertEquals(25, new HashSet<>(seen).size());
    assertEquals("s24", seen.get(0));
    assertEquals("s0", seen.get(24));
  }

  @Test
  void terminalActionsAndTheirReplies() {
    String a = account();
    String t = deviceToken(a, "phone");
    api.message("dm:bob", 5, "bob", 1000, a);
    api.message("dm:bob", 6, "bob", 2000, a);

    Api.Response read = api.post("/v1/sessions/dm:bob/read", t, "{\"seq\": 5}");
    assertEquals(200, read.status(), read.raw().body());
    assertEquals(5, read.body().get("session").get("read_seq").asLong());
    assertEquals(1, read.body().get("session").get("unread_count").asLong());
    long v = read.body().get("version").asLong();
    Api.Response noop = api.post("/v1/sessions/dm:bob/read", t, "{\"seq\": 1}");
    assertEquals(v, noop.body().get("version").asLong(), "a no-op raises no version");

    assertTrue(api.post("/v1/sessions/dm:bob/unread", t, "{}").body().get("session").get("marked_unread").asBoolean());
    JsonNode draft = api.put("/v1/sessions/dm:bob/draft", t, "{\"text\": \"ok\"}").body().get("session");
    assertEquals("ok", draft.get("draft").get("text").asText());
    assertEquals(draft.get("draft").get("ts").asLong(), draft.get("sort_key").asLong());
    assertEquals(99, api.put("/v1/sessions/dm:bob/mute", t, "{\"until\": 99}").body().get("session").get("muted_until").asLong());
    assertEquals("archive", api.put("/v1/sessions/dm:bob/box", t, "{\"box\": \"archive\"}").body().get("session").get("box").asText());
    assertEquals("dm:bob", api.get("/v1/sessions/dm:bob", t).body().get("session").get("session_id").asText());

    Api.Response group = api.post("/v1/groups", t, "{\"group_id\": \"work\", \"name\": \"  Work \"}");
    assertEquals(200, group.status(), group.raw().body());
    assertEquals("Work", group.body().get("group").get("name").asText());
    assertEquals(2, group.body().get("group").get("position").asInt());
    assertEquals("custom", group.body().get("group").get("kind").asText());
    Api.Response auto = api.post("/v1/groups", t, "{\"name\": \"Auto\"}");
    assertEquals(3, auto.body().get("group").get("position").asInt());
    String autoId = auto.body().get("group").get("group_id").asText();

    Api.Response member = api.put("/v1/groups/work/sessions/dm:bob", t, null);
    assertEquals(200, member.status(), member.raw().body());
    assertEquals(List.of("work"), texts(member.body().get("session").get("groups")));
    assertEquals(1, member.body().get("group").get("session_count").asInt());
    Api.Response pinned = api.put("/v1/groups/work/pinned", t, "{\"sessions\": [\"dm:bob\"]}");
    assertEquals(List.of("dm:bob"), texts(pinned.body().get("group").get("pinned")));
    Api.Response patch = api.call("PATCH", "/v1/groups/work", t, "{\"name\": \"Job\", \"position\": 7}");
    assertEquals("Job", patch.body().get("group").get("name").asText());
    assertEquals(7, patch.body().get("group").get("position").asInt());

    Api.Response entries = api.get("/v1/groups/work/entries?limit=10", t);
    assertEquals(200, entries.status(), entries.raw().body());
    assertEquals("dm:bob", entries.body().get("entries").get(0).get("session_id").asText());
    assertTrue(entries.body().get("entries").get(0).get("pinned").asBoolean());
    assertTrue(entries.body().get("next").isNull());

    Api.Response groups = api.get("/v1/groups", t);
    assertEquals(List.of("inbox", "archive", "work", autoId).size(), groups.body().get("groups").size());

    Api.Response removeMember = api.delete("/v1/groups/work/sessions/dm:bob", t);
    assertEquals(List.of(), texts(removeMember.body().get("session").get("groups")));
    assertEquals(List.of(), texts(removeMember.body().get("group").get("pinned")));
    Api.Response delGroup = api.delete("/v1/groups/work", t);
    assertEquals("work", delGroup.body().get("removed_group").asText());
    Api.Response delSession = api.delete("/v1/sessions/dm:bob", t);
    assertEquals("dm:bob", delSession.body().get("removed_session").asText());
    assertNotNull(delSession.body().get("version"));
    assertError(api.get("/v1/sessions/dm:bob", t), 404, "not_found");
  }

  @Test
  void bulkAddOfMembersAndBenchRoutesOffByDefault() {
    String a = account();
    String t = deviceToken(a, "phone");
    api.message("s1", 1, "bob", 1000, a);
    api.message("s2", 1, "bob", 2000, a);
    assertEquals(200, api.post("/v1/groups", t, "{\"group_id\": \"work\", \"name\": \"Work\"}").status());
    Api.Response added = api.put("/v1/groups/work/sessions", t, "{\"sessions\": [\"s1\", \"s2\", \"s1\"]}");
    assertEquals(200, added.status(), added.raw().body());
    assertEquals(2, added.body().get("added").asInt());
    assertEquals(2, added.body().get("group").get("session_count").asInt());
    assertEquals(added.body().get("version").asLong(), added.body().get("group").get("version").asLong());
    assertEquals(0, api.put("/v1/groups/work/sessions", t, "{\"sessions\": [\"s2\"]}").body().get("added").asInt());
    assertError(api.put("/v1/groups/work/sessions", t, "{\"sessions\": [\"s1\", \"nope\"]}"), 404, "not_found");
    assertError(api.put("/v1/groups/work/sessions", t, "{\"sessions\": []}"), 400, "invalid_request");
    assertError(api.put("/v1/groups/inbox/sessions", t, "{\"sessions\": [\"s1\"]}"), 400, "invalid_request");
    // the benchmark's routes exist only on the benchmark's node (BenchNode), never on a plain node
    assertError(api.post("/bench/ceiling?bytes=100", t, "{}"), 404, "not_found");
  }

  @Test
  void entriesPageThroughAMappingList() {
    String a = account();
    String t = deviceToken(a, "phone");
    for (int i = 0; i < 5; i++) api.message("s" + i, 1, "x", 1000 + i, a);
    api.put("/v1/groups/inbox/pinned", t, "{\"sessions\": [\"s0\"]}");
    List<String> order = new ArrayList<>();
    String after = null;
    for (int i = 0; i < 5; i++) {
      Api.Response r = api.get("/v1/groups/inbox/entries?limit=2" + (after == null ? "" : "&after=" + after), t);
      order.addAll(ids(r.body().get("entries"), "session_id"));
      if (r.body().get("next").isNull()) break;
      after = r.body().get("next").asText();
    }
    assertEquals(List.of("s0", "s4", "s3", "s2", "s1"), order);
  }

  @Test
  void errorsOfTheAuthTable() {
    String a = account();
    assertError(api.post("/v1/sync", null, "{}"), 401, "unauthorized");
    assertError(api.post("/v1/sync", "not.a.jwt", "{}"), 401, "unauthorized");
    String expired = Api.AUTH.issue("device", a, "d", System.currentTimeMillis() / 1000 - 10);
    assertError(api.post("/v1/sync", expired, "{}"), 401, "unauthorized");
    String foreign = new Auth("other-secret".getBytes()).issue("device", a, "d", System.currentTimeMillis() / 1000 + 60);
    assertError(api.post("/v1/sync", foreign, "{}"), 401, "unauthorized");
    String[] parts = deviceToken(a, "d").split("\\.");
    String none = Base64URL.encode("{\"alg\":\"none\"}") + "." + parts[1] + ".";
    assertError(api.post("/v1/sync", none, "{}"), 401, "unauthorized");
    String hs512 = Base64URL.encode("{\"alg\":\"HS512\"}") + "." + parts[1] + "." + parts[2];
    assertError(api.post("/v1/sync", hs512, "{}"), 401, "unauthorized");
    assertError(api.post("/v1/ingest", deviceToken(a, "d"), "{\"events\": []}"), 403, "forbidden");
    assertError(api.post("/v1/sync", serviceToken(), "{}"), 403, "forbidden");
  }

  @Test
  void errorsOfBadInput() {
    String a = account();
    String t = deviceToken(a, "phone");
    api.message("dm:bob", 3, "bob", 1000, a);
    assertError(api.post("/v1/sync", t, "{not json"), 400, "invalid_json");
    assertError(api.post("/v1/sync", t, "[1,2]"), 400, "invalid_json");
    assertError(api.post("/v1/sync", t, "{\"limit\": \"10\"}"), 400, "invalid_request");
    assertError(api.post("/v1/sync", t, "{\"limit\": 10.5}"), 400, "invalid_request");
    assertError(api.post("/v1/sync", t, "{\"limit\": 0}"), 400, "invalid_request");
    assertError(api.post("/v1/sync", t, "{\"limit\": 1001}"), 400, "invalid_request");
    assertError(api.post("/v1/sync", t, "{\"wait_ms\": 30001}"), 400, "invalid_request");
    assertError(api.post("/v1/sync", t, "{\"cursor\": \"AAAA\"}"), 400, "invalid_cursor");
    String otherCursor = api.post("/v1/sync", deviceToken(account(), "x"), "{}").body().get("cursor").asText();
    assertError(api.post("/v1/sync", t, "{\"cursor\": \"" + otherCursor + "\"}"), 400, "invalid_cursor");
    assertError(api.post("/v1/sync", t, "{\"groups\": [\"nope\"]}"), 404, "not_found");
    assertError(api.post("/v1/sync", t, "{\"groups\": [\"Bad Id\"]}"), 400, "invalid_request");
    assertError(api.post("/v1/sessions/dm:bob/read", t, "{\"seq\": \"5\"}"), 400, "invalid_request");
    assertError(api.post("/v1/sessions/dm:bob/read", t, "{}"), 400, "invalid_request");
    assertError(api.put("/v1/sessions/dm:bob/box", t, "{\"box\": \"trash\"}"), 400, "invalid_request");
    assertError(api.put("/v1/sessions/dm:bob/draft", t, "{\"text\": \"" + "x".repeat(4097) + "\"}"), 400, "invalid_request");
    assertError(api.put("/v1/sessions/bad%20id/mute", t, "{\"until\": 1}"), 400, "invalid_request");
    assertError(api.post("/v1/sessions/nope/read", t, "{\"seq\": 1}"), 404, "not_found");
    assertError(api.post("/v1/groups", t, "{\"group_id\": \"inbox\", \"name\": \"x\"}"), 400, "invalid_request");
    assertError(api.post("/v1/groups", t, "{\"name\": \"   \"}"), 400, "invalid_request");
    assertError(api.call("PATCH", "/v1/groups/inbox", t, "{\"name\": \"x\"}"), 400, "invalid_request");
    assertError(api.delete("/v1/groups/archive", t), 400, "invalid_request");
    assertError(api.put("/v1/groups/inbox/sessions/dm:bob", t, null), 400, "invalid_request");
    assertError(api.put("/v1/groups/archive/pinned", t, "{\"sessions\": [\"dm:bob\"]}"), 400, "invalid_request");
    assertError(api.delete("/v1/groups/ghost", t), 404, "not_found");
    assertError(api.get("/v1/groups/inbox/entries?limit=abc", t), 400, "invalid_request");
    assertError(api.get("/v1/groups/inbox/entries?after=@@", t), 400, "invalid_request");
    assertError(api.get("/v1/nothing-here", t), 404, "not_found");
    assertError(api.post("/v1/ingest", serviceToken(), "{\"events\": []}"), 400, "invalid_request");
    assertError(api.post("/v1/ingest", serviceToken(), "{\"events\": [{\"type\": \"message\", \"account_ids\": [\"" + a
        + "\"], \"session_id\": \"s\", \"seq\": 0, \"sender_id\": \"x\", \"ts\": 1}]}"), 400, "invalid_request");
    assertError(api.post("/v1/ingest", serviceToken(), "{\"events\": [{\"type\": \"gossip\", \"account_ids\": [\"" + a
        + "\"], \"session_id\": \"s\", \"ts\": 1}]}"), 400, "invalid_request");
  }

  @Test
  void conflictsAndLimits() {
    String a = account();
    String t = deviceToken(a, "phone");
    assertEquals(200, api.post("/v1/groups", t, "{\"group_id\": \"work\", \"name\": \"Work\"}").status());
    assertError(api.post("/v1/groups", t, "{\"group_id\": \"work\", \"name\": \"Work\"}"), 409, "conflict");
    for (int i = 0; i < 31; i++) assertEquals(200, api.post("/v1/groups", t, "{\"name\": \"G" + i + "\"}").status());
    assertError(api.post("/v1/groups", t, "{\"name\": \"one too many\"}"), 409, "limit_exceeded");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 11; i++) {
      api.message("s" + i, 1, "x", 1000 + i, a);
      ids.add("\"s" + i + "\"");
    }
    assertError(api.put("/v1/groups/inbox/pinned", t, "{\"sessions\": [" + String.join(",", ids) + "]}"), 409, "limit_exceeded");
  }

  @Test
  void oversizedBodyIs413() {
    String t = deviceToken(account(), "phone");
    String big = "{\"text\": \"" + "x".repeat(1024 * 1024 + 10) + "\"}";
    assertError(api.put("/v1/sessions/s/draft", t, big), 413, "payload_too_large");
  }

  @Test
  void previewIsTruncatedTo512CodePoints() {
    String a = account();
    String emoji = "\uD83D\uDE00";
    Api.Response r = api.post("/v1/ingest", serviceToken(), "{\"events\": [{\"type\": \"message\", \"account_ids\": [\"" + a
        + "\"], \"session_id\": \"s\", \"seq\": 1, \"sender_id\": \"x\", \"preview\": \"" + emoji.repeat(600) + "\", \"ts\": 1}]}");
    assertEquals(200, r.status());
    String preview = api.get("/v1/sessions/s", deviceToken(a, "p")).body().get("session").get("last_message").get("preview").asText();
    assertEquals(512, preview.codePointCount(0, preview.length()));
  }

  @Test
  void fanOutCountsEveryDeliveryAndMentionsAndOwnMessages() {
    String alice = account();
    String bob = account();
    String carol = account();
    Api.Response r = api.post("/v1/ingest", serviceToken(), "{\"events\": [{\"type\": \"message\", \"account_ids\": [\""
        + alice + "\",\"" + bob + "\",\"" + carol + "\"], \"session_id\": \"g:team\", \"session_kind\": \"group\", \"title\": \"Team\","
        + " \"seq\": 10, \"sender_id\": \"" + alice + "\", \"preview\": \"hi @bob\", \"ts\": 5, \"mentions\": [\"" + bob + "\"]}]}");
    assertEquals(3, r.body().get("accepted").asInt());
    JsonNode a = api.get("/v1/sessions/g:team", deviceToken(alice, "p")).body().get("session");
    JsonNode b = api.get("/v1/sessions/g:team", deviceToken(bob, "p")).body().get("session");
    assertEquals(0, a.get("unread_count").asLong());
    assertEquals(1, b.get("unread_count").asLong());
    assertEquals(1, b.get("mention_count").asLong());
    assertEquals("group", b.get("kind").asText());
    assertEquals("Team", b.get("title").asText());
  }

  @Test
  void operatorEndpoints() {
    String a = account();
    api.message("dm:bob", 1, "bob", 1000, a);
    String op = Api.operatorToken();
    assertError(api.get("/admin/cluster", deviceToken(a, "p")), 403, "forbidden");
    assertError(api.get("/admin/cluster", serviceToken()), 403, "forbidden");
    JsonNode cluster = api.get("/admin/cluster", op).body();
    assertEquals(1, cluster.get("members").size());
    JsonNode me = cluster.get("members").get(0);
    assertEquals("up", me.get("status").asText());
    assertTrue(me.get("shards").asInt() >= 1, cluster.toString());
    assertTrue(me.get("active_accounts").asInt() >= 1, cluster.toString());

    JsonNode account = api.get("/admin/accounts/" + a, op).body();
    assertEquals(1, account.get("version").asLong());
    assertEquals(1, account.get("sessions").asInt());
    assertEquals(2, account.get("groups").asInt());
    assertEquals(me.get("address").asText(), account.get("node").asText());
    String shard = account.get("shard_id").asText();

    Api.Response move = api.post("/admin/shards/" + shard + "/move", op, "{\"to\": \"" + me.get("address").asText() + "\"}");
    assertEquals(200, move.status(), move.raw().body());
    assertEquals(shard, move.body().get("shard_id").asText());
    assertError(api.post("/admin/shards/" + shard + "/move", op, "{\"to\": \"akka://imsync@10.9.9.9:1\"}"), 400, "invalid_request");
    assertError(api.post("/admin/shards/" + shard + "/move", op, "{\"to\": \"not an address\"}"), 400, "invalid_request");
    assertError(api.post("/admin/shards/99999/move", op, "{\"to\": \"" + me.get("address").asText() + "\"}"), 404, "not_found");
    Api.Response rebalance = api.post("/admin/rebalance", op, null);
    assertEquals(200, rebalance.status(), rebalance.raw().body());
    assertTrue(rebalance.body().get("moved").asInt() >= 0);
    assertEquals(1, api.get("/admin/accounts/" + a, op).body().get("sessions").asInt(), "still answering");
  }

  @Test
  void malformedHttpGetsTheErrorShapeNot5xx() throws Exception {
    for (String raw : List.of("GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "GET /v1/%zz HTTP/1.1\r\nHost: x\r\n\r\n")) {
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", node.port)) {
        socket.getOutputStream().write(raw.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
        assertTrue(answer.contains("{\"error\":{\"code\":\"invalid_request\""), answer);
      }
    }
  }

  private static List<String> ids(JsonNode array, String field) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.get(field).asText()));
    return out;
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
