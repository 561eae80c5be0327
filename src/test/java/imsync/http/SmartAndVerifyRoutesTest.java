package imsync.http;

import static imsync.testkit.Api.deviceToken;
import static imsync.testkit.Api.serviceToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.OnTestNode;
import imsync.testkit.StreamClient;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The v1.1 additions over real HTTP: GET /v1/info, smart folders, POST /v1/sync/verify (with max_bytes). */
class SmartAndVerifyRoutesTest extends OnTestNode {
  private static String account() {
    return Api.uniqueAccount("v11");
  }

  private static void assertError(Api.Response r, int status, String code) {
    Api.assertError(r, status, code);
  }

  private static JsonNode ok(Api.Response r) {
    assertEquals(200, r.status(), r.raw().body());
    return r.body();
  }

  @Test
  void infoListsTheContractVersionsWithoutAuth() {
    JsonNode info = ok(api.get("/v1/info", null));
    assertEquals("[\"v1\",\"v1.1\",\"v1.2\"]", info.get("api").toString());
    assertTrue(info.get("version").isTextual());
    assertFalse(info.get("version").asText().isEmpty());
  }

  @Test
  void smartFolderIsASyncViewAndReadingRemovesFromUnread() {
    String a = account();
    String t = deviceToken(a, "phone");
    api.message("dm:bob", 5, "bob", 1_764_400_000_000L, a);
    api.message("dm:eve", 9, "eve", 1_764_400_001_000L, a);
    api.message("dm:me", 3, a, 1_764_400_002_000L, a);
    JsonNode created = ok(api.post("/v1/groups", t, "{\"group_id\":\"unread\",\"name\":\"Unread\",\"rule\":{\"unread\":true}}")).get("group");
    assertEquals("smart", created.get("kind").asText());
    assertEquals("{\"unread\":true}", created.get("rule").toString(), "the rule as stored: absent fields stay absent");
    assertEquals(2, created.get("session_count").asInt());
    assertEquals(2, created.get("unread_sessions").asInt());
    assertEquals(2, created.get("unread_messages").asLong());

    JsonNode entries = ok(api.get("/v1/groups/unread/entries", t));
    assertEquals("dm:eve", entries.get("entries").get(0).get("session_id").asText());
    assertEquals(2, entries.get("entries").size());

    JsonNode first = ok(api.post("/v1/sync", t, "{\"groups\":[\"unread\"]}"));
    assertEquals(2, first.get("sessions").size());
    for (JsonNode s : first.get("sessions")) assertEquals("[]", s.get("groups").toString(), "groups lists custom groups only");
    assertEquals(1, first.get("groups").size());

    ok(api.post("/v1/sessions/dm:bob/read", t, "{\"seq\":5}"));
    JsonNode delta = ok(api.post("/v1/sync", t, "{\"groups\":[\"unread\"],\"cursor\":\"" + first.get("cursor").asText() + "\"}"));
    assertEquals("[\"dm:bob\"]", delta.get("removed_sessions").toString());
    assertEquals(0, delta.get("sessions").size());
    assertEquals(1, delta.get("groups").get(0).get("session_count").asInt(), "badge follows");

    // a rule change takes effect in the next delta the same way
    JsonNode patched = ok(api.call("PATCH", "/v1/groups/unread", t, "{\"rule\":{\"kinds\":[\"direct\"],\"exclude\":[\"dm:eve\"]},\"name\":\"Direct\"}")).get("group");
    assertEquals("{\"kinds\":[\"direct\"],\"exclude\":[\"dm:eve\"]}", patched.get("rule").toString());
    assertEquals("Direct", patched.get("name").asText());
    JsonNode after = ok(api.post("/v1/sync", t, "{\"groups\":[\"unread\"],\"cursor\":\"" + delta.get("cursor").asText() + "\"}"));
    assertEquals("[\"dm:eve\"]", after.get("removed_sessions").toString());
    Set<String> ids = new TreeSet<>();
    after.get("sessions").forEach(s -> ids.add(s.get("session_id").asText()));
    assertEquals(Set.of("dm:bob", "dm:me"), ids);

    JsonNode removed = ok(api.delete("/v1/groups/unread", t));
    assertEquals("unread", removed.get("removed_group").asText());
  }

  @Test
  void smartFolderWorksAsAStreamFilter() throws Exception {
    String a = account();
    String t = deviceToken(a, "phone");
    api.message("dm:bob", 5, "bob", 1_764_400_000_000L, a);
    api.message("dm:me", 3, a, 1_764_400_002_000L, a);
    ok(api.post("/v1/groups", t, "{\"group_id\":\"unread\",\"name\":\"Unread\",\"rule\":{\"unread\":true}}"));
    try (StreamClient s = StreamClient.connect(node.port, t, "?groups=unread", true)) {
      JsonNode first = s.next(Duration.ofSeconds(10));
      assertEquals(1, first.get("sessions").size());
      assertEquals("dm:bob", first.get("sessions").get(0).get("session_id").asText());
      assertEquals(1, first.get("groups").size(), "groups of the view only");
      ok(api.post("/v1/sessions/dm:bob/read", t, "{\"seq\":5}"));
      s.await(f -> f.get("removed_sessions").toString().equals("[\"dm:bob\"]"), Duration.ofSeconds(10));
      api.message("dm:me", 4, "eve", 1_764_400_003_000L, a);
      s.awaitSession("dm:me", x -> x.get("unread_count").asLong() == 1, Duration.ofSeconds(10));
    }
    try (StreamClient s = StreamClient.connect(node.port, t, "?groups=nope", true)) {
      assertEquals("not_found", s.next(Duration.ofSeconds(10)).path("error").path("code").asText());
      assertEquals(1000, s.closed.get(10, TimeUnit.SECONDS), "the stream ends after the error");
    }
  }

  /** v1.1 max_bytes as a stream option: every catch-up frame stays within the budget, and the client converges. */
  @Test
  void streamFramesKeepToMaxBytes() throws Exception {
    String a = account();
    String t = deviceToken(a, "phone");
    String preview = "p".repeat(300);
    StringBuilder events = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      if (i > 0) events.append(',');
      events.append("{\"type\":\"message\",\"account_ids\":[\"").append(a).append("\"],\"session_id\":\"s").append(i)
          .append("\",\"session_kind\":\"direct\",\"title\":\"T\",\"seq\":1,\"sender_id\":\"bob\",\"preview\":\"")
          .append(preview).append("\",\"ts\":").append(1_764_400_000_000L + i).append('}');
    }
    ok(api.post("/v1/ingest", serviceToken(), "{\"events\":[" + events + "]}"));
    try (StreamClient s = StreamClient.connect(node.port, t, "?max_bytes=2048", true)) {
      Set<String> seen = new HashSet<>();
      JsonNode f;
      do {
        f = s.next(Duration.ofSeconds(10));
        f.get("sessions").forEach(x -> seen.add(x.get("session_id").asText()));
      } while (f.get("has_more").asBoolean());
      assertEquals(40, seen.size(), "the catch-up carries every session");
      assertTrue(s.frameBytes.size() > 1, "the budget splits the catch-up");
      for (int bytes : s.frameBytes) assertTrue(bytes <= 2048, "frame of " + bytes + " bytes over max_bytes 2048");
    }
    assertEquals(400, api.get("/v1/stream?max_bytes=100", t).status(), "max_bytes below 1024");
  }

  @Test
  void badRulesAndHandMadeMembersAre400() {
    String a = account();
    String t = deviceToken(a, "phone");
    api.message("dm:bob", 5, "bob", 1_764_400_000_000L, a);
    String[] bad = {
        "{\"name\":\"X\",\"rule\":{\"colour\":\"red\"}}",
        "{\"name\":\"X\",\"rule\":{\"unread\":\"yes\"}}",
        "{\"name\":\"X\",\"rule\":{\"mentioned\":1}}",
        "{\"name\":\"X\",\"rule\":{\"kinds\":\"direct\"}}",
        "{\"name\":\"X\",\"rule\":{\"kinds\":[]}}",
        "{\"name\":\"X\",\"rule\":{\"kinds\":[" + "\"direct\",".repeat(16) + "\"group\"]}}",
        "{\"name\":\"X\",\"rule\":{\"box\":\"trash\"}}",
        "{\"name\":\"X\",\"rule\":{\"in_groups\":[1]}}",
        "{\"name\":\"X\",\"rule\":{\"include\":[" + "\"a\",".repeat(100) + "\"b\"]}}",
        "{\"name\":\"X\",\"rule\":{\"exclude\":[\"bad id!\"]}}",
        "{\"name\":\"X\",\"rule\":[]}",
    };
    for (String body : bad) assertError(api.post("/v1/groups", t, body), 400, "invalid_request");
    ok(api.post("/v1/groups", t, "{\"group_id\":\"all\",\"name\":\"All\",\"rule\":{}}"));
    ok(api.post("/v1/groups", t, "{\"group_id\":\"work\",\"name\":\"Work\"}"));
    assertError(api.put("/v1/groups/all/sessions/dm:bob", t, null), 400, "invalid_request");
    assertError(api.delete("/v1/groups/all/sessions/dm:bob", t), 400, "invalid_request");
    assertError(api.put("/v1/groups/all/sessions", t, "{\"sessions\":[\"dm:bob\"]}"), 400, "invalid_request");
    assertError(api.put("/v1/groups/all/pinned", t, "{\"sessions\":[\"dm:bob\"]}"), 400, "invalid_request");
    assertError(api.call("PATCH", "/v1/groups/work", t, "{\"rule\":{}}"), 400, "invalid_request");
    assertError(api.call("PATCH", "/v1/groups/all", t, "{\"rule\":{\"unread\":null,\"x\":1}}"), 400, "invalid_request");
    JsonNode session = ok(api.get("/v1/sessions/dm:bob", t)).get("session");
    assertEquals("[]", session.get("groups").toString());
  }

  static byte[] sha256(String s) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
  }

  static int bucket(String sid, int n) throws Exception {
    return (int) ((ByteBuffer.wrap(sha256(sid), 0, 4).getInt() & 0xffffffffL) % n);
  }

  static String digestsJson(List<JsonNode> sessions, int n) throws Exception {
    long[] d = new long[n];
    for (JsonNode s : sessions) {
      String id = s.get("session_id").asText();
      d[bucket(id, n)] ^= ByteBuffer.wrap(sha256(id + "\n" + s.get("version").asLong()), 0, 8).getLong();
    }
    List<String> hex = new ArrayList<>();
    for (long x : d) hex.add("\"" + String.format("%016x", x) + "\"");
    return "[" + String.join(",", hex) + "]";
  }

  @Test
  void verifyRepairsACorruptedCopyAndChecksItsInput() throws Exception {
    String a = account();
    String t = deviceToken(a, "phone");
    for (int i = 0; i < 40; i++) api.message("s" + i, 1, "bob", 1_764_400_000_000L + i, a);
    JsonNode full = ok(api.post("/v1/sync", t, "{\"limit\":1000}"));
    List<JsonNode> copy = new ArrayList<>();
    full.get("sessions").forEach(copy::add);
    assertEquals(40, copy.size());

    // an exact copy: nothing mismatched, at any N
    for (int n : new int[] {1, 8, 4096}) {
      JsonNode r = ok(api.post("/v1/sync/verify", t, "{\"groups\":null,\"digests\":" + digestsJson(copy, n) + "}"));
      assertEquals("[]", r.get("mismatched").toString(), "N=" + n);
      assertEquals("[]", r.get("unchecked").toString());
      assertEquals("[]", r.get("sessions").toString());
      assertEquals(full.get("version").asLong(), r.get("version").asLong());
      assertEquals(2, r.get("groups").size());
    }
    // one missing, one extra: exactly their buckets come back
    JsonNode dropped = copy.remove(7);
    copy.add(Api.JSON.readTree("{\"session_id\":\"ghost\",\"version\":3}"));
    int n = 16;
    JsonNode r = ok(api.post("/v1/sync/verify", t, "{\"digests\":" + digestsJson(copy, n) + "}"));
    Set<Integer> expected = new TreeSet<>(List.of(bucket(dropped.get("session_id").asText(), n), bucket("ghost", n)));
    List<Integer> got = new ArrayList<>();
    r.get("mismatched").forEach(b -> got.add(b.asInt()));
    assertEquals(new ArrayList<>(expected), got);
    Set<String> sent = new HashSet<>();
    r.get("sessions").forEach(s -> sent.add(s.get("session_id").asText()));
    assertTrue(sent.contains(dropped.get("session_id").asText()));
    for (String id : sent) assertTrue(expected.contains(bucket(id, n)));
    // the cursor continues as a caught-up sync cursor
    JsonNode next = ok(api.post("/v1/sync", t, "{\"cursor\":\"" + r.get("cursor").asText() + "\"}"));
    assertFalse(next.get("reset").asBoolean());
    assertEquals(0, next.get("sessions").size());

    assertError(api.post("/v1/sync/verify", t, "{\"digests\":[\"0000000000000000\",\"0000000000000000\",\"0000000000000000\"]}"), 400, "invalid_request");
    assertError(api.post("/v1/sync/verify", t, "{\"digests\":[]}"), 400, "invalid_request");
    assertError(api.post("/v1/sync/verify", t, "{}"), 400, "invalid_request");
    assertError(api.post("/v1/sync/verify", t, "{\"digests\":[\"000000000000000A\"]}"), 400, "invalid_request");
    assertError(api.post("/v1/sync/verify", t, "{\"digests\":[\"00000000\"]}"), 400, "invalid_request");
    assertError(api.post("/v1/sync/verify", t, "{\"digests\":[0]}"), 400, "invalid_request");
    assertError(api.post("/v1/sync/verify", t, "{\"digests\":[\"0000000000000000\"],\"max_bytes\":1023}"), 400, "invalid_request");
    assertError(api.post("/v1/sync/verify", t, "{\"digests\":[\"0000000000000000\"],\"groups\":[\"nope\"]}"), 404, "not_found");
  }

  @Test
  void verifyStaysWithinMaxBytesWithWholeBucketsOnly() throws Exception {
    String a = account();
    String t = deviceToken(a, "phone");
    for (int i = 0; i < 60; i++) api.message("s" + i, 1, "bob", 1_764_400_000_000L + i, a);
    int n = 64;
    String empty = digestsJson(List.of(), n);
    JsonNode all = ok(api.post("/v1/sync/verify", t, "{\"digests\":" + empty + "}"));
    assertEquals(60, all.get("sessions").size());
    int buckets = all.get("mismatched").size();
    for (int budget : new int[] {1024, 2048, 5000}) {
      Api.Response resp = api.post("/v1/sync/verify", t, "{\"digests\":" + empty + ",\"max_bytes\":" + budget + "}");
      JsonNode r = ok(resp);
      assertTrue(resp.raw().body().getBytes(StandardCharsets.UTF_8).length <= budget, "budget " + budget);
      Set<Integer> m = new TreeSet<>();
      r.get("mismatched").forEach(b -> m.add(b.asInt()));
      Set<Integer> u = new TreeSet<>();
      r.get("unchecked").forEach(b -> u.add(b.asInt()));
      assertEquals(buckets, m.size() + u.size(), "every differing bucket is mismatched or unchecked");
      assertFalse(u.isEmpty(), "60 sessions do not fit " + budget + " bytes");
      for (JsonNode s : r.get("sessions")) assertTrue(m.contains(bucket(s.get("session_id").asText(), n)));
      int whole = 0;
      for (JsonNode s : all.get("sessions")) if (m.contains(bucket(s.get("session_id").asText(), n))) whole++;
      assertEquals(whole, r.get("sessions").size(), "whole buckets only");
      if (budget >= 2048) assertFalse(m.isEmpty());
    }
  }

  /** The figure of the issue: repairing a 10,000-session copy (one wrong, one missing, one extra) against a full resync. */
  @Test
  void repairingATenThousandSessionCopyCostsFarLessThanAResync() throws Exception {
    String a = account();
    String t = deviceToken(a, "phone");
    for (int batch = 0; batch < 10; batch++) {
      StringBuilder events = new StringBuilder();
      for (int i = 0; i < 1000; i++) {
        int n = batch * 1000 + i;
        if (i > 0) events.append(',');
        events.append("{\"type\":\"message\",\"account_ids\":[\"").append(a).append("\"],\"session_id\":\"s").append(n)
            .append("\",\"session_kind\":\"direct\",\"title\":\"Title ").append(n).append("\",\"seq\":1,\"sender_id\":\"bob\",")
            .append("\"preview\":\"a preview of some forty characters, or so\",\"ts\":").append(1_764_400_000_000L + n).append('}');
      }
      ok(api.post("/v1/ingest", Api.serviceToken(), "{\"events\":[" + events + "]}"));
    }
    long t0 = System.nanoTime();
    long resyncBytes = 0;
    List<JsonNode> copy = new ArrayList<>();
    String cursor = null;
    while (true) {
      Api.Response r = api.post("/v1/sync", t, "{\"limit\":1000" + (cursor == null ? "" : ",\"cursor\":\"" + cursor + "\"") + "}");
      resyncBytes += r.raw().body().getBytes(StandardCharsets.UTF_8).length;
      ok(r).get("sessions").forEach(copy::add);
      cursor = r.body().get("cursor").asText();
      if (!r.body().get("has_more").asBoolean()) break;
    }
    long resyncMicros = (System.nanoTime() - t0) / 1000;
    assertEquals(10_000, copy.size());
    copy.remove(4242);
    copy.add(Api.JSON.readTree("{\"session_id\":\"ghost\",\"version\":3}"));
    api.message("s17", 2, "bob", 1_764_500_000_000L, a); // the copy's s17 is now an old version
    String request = "{\"digests\":" + digestsJson(copy, 256) + "}"; // the client's work, not timed
    long t1 = System.nanoTime();
    Api.Response v = api.post("/v1/sync/verify", t, request);
    JsonNode r = ok(v);
    long verifyMicros = (System.nanoTime() - t1) / 1000;
    long verifyBytes = request.length() + v.raw().body().getBytes(StandardCharsets.UTF_8).length;
    assertTrue(r.get("mismatched").size() <= 3 && r.get("mismatched").size() >= 1);
    assertEquals("[]", r.get("unchecked").toString());
    System.out.printf("repair of a 10,000-session copy (N=256): %d bytes (request + response), %d us; full resync: %d bytes, %d us%n",
        verifyBytes, verifyMicros, resyncBytes, resyncMicros);
    assertTrue(verifyBytes * 10 < resyncBytes, "repair moves a small fraction of a resync's bytes");
  }
}
