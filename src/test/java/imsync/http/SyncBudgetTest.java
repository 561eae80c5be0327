package imsync.http;

import static imsync.testkit.Api.deviceToken;
import static imsync.testkit.Api.serviceToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.OnTestNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code max_bytes} on {@code POST /v1/sync} (API v1.1) over real HTTP: every answer's body is at most the
 * budget unless it carries one session alone that does not fit, and a client paging with the budget ends
 * up holding what a client without one holds.
 */
class SyncBudgetTest extends OnTestNode {
  private static String account() {
    return Api.uniqueAccount("budget");
  }

  /** What a client holds, and the last cursor. */
  static final class Client {
    final Map<String, JsonNode> sessions = new HashMap<>();
    final Map<String, JsonNode> groups = new HashMap<>();
    String cursor;
    int pages;
    int pagesOverBudget;

    /** Pages to the end with this budget (0: none), checking every body's length. */
    void syncToEnd(String token, int limit, int maxBytes) {
      for (int page = 0; page < 10_000; page++) {
        String body = "{\"cursor\":" + (cursor == null ? "null" : "\"" + cursor + "\"") + ",\"limit\":" + limit
            + (maxBytes > 0 ? ",\"max_bytes\":" + maxBytes : "") + "}";
        Api.Response r = api.post("/v1/sync", token, body);
        assertEquals(200, r.status(), r.raw().body());
        int length = r.raw().body().getBytes(StandardCharsets.UTF_8).length;
        String contentLength = r.raw().headers().firstValue("content-length").orElse(null);
        if (contentLength != null) assertEquals(length, Integer.parseInt(contentLength), "the body as sent");
        JsonNode a = r.body();
        int entries = a.get("groups").size() + a.get("removed_groups").size() + a.get("sessions").size() + a.get("removed_sessions").size();
        if (maxBytes > 0 && length > maxBytes) {
          pagesOverBudget++;
          assertEquals(1, a.get("sessions").size() + a.get("groups").size(), "over the budget only with one session alone: " + length);
          assertEquals(1, entries, "over the budget only with one session alone: " + length);
        }
        assertTrue(a.get("sessions").size() + a.get("removed_sessions").size() <= limit, "limit");
        if (a.get("reset").asBoolean()) {
          sessions.clear();
          groups.clear();
        }
        a.get("groups").forEach(g -> groups.put(g.get("group_id").asText(), g));
        a.get("removed_groups").forEach(g -> groups.remove(g.asText()));
        a.get("sessions").forEach(s -> sessions.put(s.get("session_id").asText(), s));
        a.get("removed_sessions").forEach(s -> sessions.remove(s.asText()));
        cursor = a.get("cursor").asText();
        pages++;
        if (!a.get("has_more").asBoolean()) return;
      }
      throw new AssertionError("never finished");
    }
  }

  /** 60 sessions, 32 custom groups (more group JSON than a small budget holds), pins, members. */
  private static void loadAccount(String a, String t) {
    List<String> events = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      events.add("{\"type\":\"message\",\"account_ids\":[\"" + a + "\"],\"session_id\":\"s:" + i + "\",\"session_kind\":\"group\","
          + "\"title\":\"Room " + i + " ☕\",\"seq\":" + (1 + i % 3) + ",\"sender_id\":\"bob\",\"preview\":\"preview " + i + " héllo\","
          + "\"ts\":" + (1_764_400_000_000L + i * 1000L) + "}");
    }
    Api.Response in = api.post("/v1/ingest", serviceToken(), "{\"events\":[" + String.join(",", events) + "]}");
    assertEquals(200, in.status(), in.raw().body());
    for (int g = 0; g < 32; g++) {
      assertEquals(200, api.post("/v1/groups", t, "{\"group_id\":\"folder-" + g + "\",\"name\":\"Folder number " + g + "\"}").status());
      List<String> members = new ArrayList<>();
      for (int i = g; i < 60; i += 7) members.add("\"s:" + i + "\"");
      assertEquals(200, api.put("/v1/groups/folder-" + g + "/sessions", t, "{\"sessions\":[" + String.join(",", members) + "]}").status());
    }
    assertEquals(200, api.put("/v1/groups/inbox/pinned", t, "{\"sessions\":[\"s:3\",\"s:50\"]}").status());
    assertEquals(200, api.put("/v1/groups/folder-1/pinned", t, "{\"sessions\":[\"s:8\"]}").status());
  }

  @Test
  void everyAnswerOfAPagedFirstSyncAndOfDeltasFitsTheBudgetAndTheClientConverges() {
    String a = account();
    String t = deviceToken(a, "phone");
    loadAccount(a, t);
    int[] budgets = {1024, 2000, 5000};
    for (int round = 0; round < budgets.length; round++) {
      int budget = budgets[round];
      Client reference = new Client();
      reference.syncToEnd(t, 1000, 0);
      Client c = new Client();
      c.syncToEnd(t, 200, budget);
      assertTrue(c.pages > 1, "the budget made pages");
      assertEquals(0, c.pagesOverBudget);
      assertEquals(reference.sessions, c.sessions, "budget " + budget + ": the same sessions");
      assertEquals(reference.groups, c.groups, "budget " + budget + ": the same groups");

      // deltas: changed and removed sessions, a removed and a renamed group
      for (int i = 0; i < 12; i++) api.message("s:" + (i * 5), 10 + budget, "bob", 1_764_500_000_000L + budget + i, a);
      assertEquals(200, api.delete("/v1/sessions/s:" + (round * 5 + 1), t).status());
      assertEquals(200, api.delete("/v1/groups/folder-" + (round + 2), t).status());
      assertEquals(200, api.call("PATCH", "/v1/groups/folder-0", t, "{\"name\":\"Renamed " + budget + "\"}").status());
      c.syncToEnd(t, 200, budget);
      assertEquals(0, c.pagesOverBudget);
      Client fresh = new Client();
      fresh.syncToEnd(t, 1000, 0);
      assertEquals(fresh.sessions, c.sessions, "budget " + budget + ": deltas converge");
      assertEquals(fresh.groups, c.groups, "budget " + budget + ": deltas converge (groups)");
    }
  }

  @Test
  void aSessionThatDoesNotFitAloneIsSentAlone() {
    String a = account();
    String t = deviceToken(a, "phone");
    String preview = "é".repeat(600); // stored as 512 code points, 1,024 UTF-8 bytes
    for (int i = 0; i < 5; i++) {
      String p = i == 2 ? preview : "short";
      Api.Response in = api.post("/v1/ingest", serviceToken(), "{\"events\":[{\"type\":\"message\",\"account_ids\":[\"" + a
          + "\"],\"session_id\":\"s:" + i + "\",\"session_kind\":\"direct\",\"title\":\"T\",\"seq\":1,\"sender_id\":\"bob\","
          + "\"preview\":\"" + p + "\",\"ts\":" + (1_764_400_000_000L + i) + "}]}");
      assertEquals(200, in.status());
    }
    assertEquals(200, api.put("/v1/sessions/s:2/draft", t, "{\"text\":\"" + "d".repeat(4096) + "\"}").status());
    Client c = new Client();
    c.syncToEnd(t, 200, 1024);
    assertEquals(1, c.pagesOverBudget, "the big session went alone, over the budget");
    assertEquals(5, c.sessions.size());
    assertEquals(4096, c.sessions.get("s:2").get("draft").get("text").asText().length());
    assertEquals(512, c.sessions.get("s:2").get("last_message").get("preview").asText().codePointCount(0, 512));

    // and in a delta: the big one changes with two small ones
    api.message("s:2", 2, "bob", 1_764_500_000_000L, a);
    api.message("s:0", 2, "bob", 1_764_500_000_001L, a);
    api.message("s:4", 2, "bob", 1_764_500_000_002L, a);
    c.pagesOverBudget = 0;
    c.syncToEnd(t, 200, 1024);
    assertEquals(1, c.pagesOverBudget);
    assertEquals(2, c.sessions.get("s:2").get("last_message").get("seq").asInt());
    assertEquals(2, c.sessions.get("s:4").get("last_message").get("seq").asInt());
  }

  @Test
  void maxBytesOutOfRangeOrOfTheWrongTypeIsInvalid() {
    String t = deviceToken(account(), "phone");
    for (String v : List.of("1023", "16777217", "\"2000\"", "2000.5", "true", "[]", "-1")) {
      Api.Response r = api.post("/v1/sync", t, "{\"max_bytes\":" + v + "}");
      assertEquals(400, r.status(), v + ": " + r.raw().body());
      assertEquals("invalid_request", r.errorCode());
      assertTrue(r.body().path("error").path("message").asText().contains("max_bytes"), r.raw().body());
    }
    for (String v : List.of("1024", "16777216", "null")) {
      assertEquals(200, api.post("/v1/sync", t, "{\"max_bytes\":" + v + "}").status(), v);
    }
  }
}
