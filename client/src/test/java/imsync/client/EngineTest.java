package imsync.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;
import okhttp3.WebSocketListener;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sync engine against a scripted server (OkHttp's MockWebServer): paging, resume, reset swaps, the
 * offline queue, repair and the long-poll fallback. The real server is in {@link ChaosIT}.
 */
class EngineTest {
  private MockWebServer server;
  /** What the fake answers: by "METHOD path" and the request, null for a 404. */
  private volatile Function<RecordedRequest, MockResponse> handler;
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private final List<String> bodies = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startServer() throws Exception {
    server = new MockWebServer();
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest r) {
        String line = r.getMethod() + " " + r.getPath().replaceAll("\\?.*", "");
        requests.add(line);
        bodies.add(r.getBody().clone().readUtf8());
        MockResponse answer = handler.apply(r);
        return answer != null ? answer : json(404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no route\"}}");
      }
    });
    server.start();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.shutdown();
  }

  static MockResponse json(int status, String body) {
    return new MockResponse().setResponseCode(status).setHeader("Content-Type", "application/json").setBody(body);
  }

  static String session(String id, long version, long sortKey, long lastSeq, long readSeq) {
    return "{\"session_id\":\"" + id + "\",\"kind\":\"direct\",\"title\":\"" + id + "\",\"last_message\":{\"seq\":" + lastSeq
        + ",\"sender_id\":\"x\",\"preview\":\"p\",\"ts\":" + sortKey + "},\"read_seq\":" + readSeq + ",\"unread_count\":"
        + Math.max(0, lastSeq - readSeq) + ",\"mention_count\":0,\"marked_unread\":false,\"muted_until\":0,\"draft\":null,"
        + "\"box\":\"inbox\",\"groups\":[],\"sort_key\":" + sortKey + ",\"version\":" + version + "}";
  }

  static final String GROUPS = "[{\"group_id\":\"inbox\",\"kind\":\"system\",\"name\":\"Inbox\",\"position\":0,\"pinned\":[],\"version\":1},"
      + "{\"group_id\":\"archive\",\"kind\":\"system\",\"name\":\"Archive\",\"position\":1,\"pinned\":[],\"version\":1}]";

  static String page(String cursor, boolean hasMore, boolean reset, long version, String groups, List<String> sessions, List<String> removed) {
    return "{\"cursor\":\"" + cursor + "\",\"has_more\":" + hasMore + ",\"reset\":" + reset + ",\"version\":" + version + ",\"groups\":" + groups
        + ",\"removed_groups\":[],\"sessions\":[" + String.join(",", sessions) + "],\"removed_sessions\":["
        + removed.stream().map(s -> "\"" + s + "\"").collect(Collectors.joining(",")) + "]}";
  }

  static String cursorOf(RecordedRequest r, String body) {
    JsonNode n = Json.parse(body.isEmpty() ? "{}" : body);
    return n.path("cursor").isNull() || n.path("cursor").isMissingNode() ? null : n.path("cursor").asText();
  }

  /** A verify that finds nothing to fix, and a stream that opens and stays quiet. */
  static MockResponse common(RecordedRequest r, String cursor, long version) {
    String path = r.getPath();
    if (path.startsWith("/v1/sync/verify")) {
      return json(200, "{\"version\":" + version + ",\"cursor\":\"" + cursor + "\",\"groups\":" + GROUPS + ",\"mismatched\":[],\"sessions\":[],\"unchecked\":[]}");
    }
    if (path.startsWith("/v1/stream")) return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {});
    return null;
  }

  ImsyncClient client(MirrorStore store, ClientListener listener) {
    return ImsyncClient.builder(server.url("/").toString(), () -> "token").store(store).listener(listener)
        .backoff(Duration.ofMillis(20), Duration.ofMillis(200)).longPollWait(Duration.ofSeconds(1)).build();
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      Thread.onSpinWait();
      java.util.concurrent.locks.LockSupport.parkNanos(2_000_000); // poll interval of the await
    }
  }

  @Test
  void pagesWhileHasMoreThenResumesFromTheStoredCursor() {
    handler = r -> {
      String body = r.getBody().clone().readUtf8();
      if (r.getPath().equals("/v1/sync")) {
        String c = cursorOf(r, body);
        if (c == null) return json(200, page("c1", true, true, 3, GROUPS, List.of(session("a", 3, 300, 1, 0), session("b", 2, 200, 0, 0)), List.of()));
        if (c.equals("c1")) return json(200, page("c2", false, false, 3, "[]", List.of(session("c", 1, 100, 2, 0)), List.of()));
        return json(200, page(c, false, false, 3, "[]", List.of(), List.of()));
      }
      return common(r, "c2", 3);
    };
    InMemoryStore store = new InMemoryStore();
    List<SyncPage> pages = new CopyOnWriteArrayList<>();
    ClientListener listener = new ClientListener() {
      @Override
      public void onPage(SyncPage page, ClientState.Transport via) {
        pages.add(page);
      }
    };
    try (ImsyncClient c = client(store, listener)) {
      c.start();
      await(() -> c.state().kind == ClientState.Kind.LIVE, "live");
      MirrorSnapshot s = c.snapshot();
      assertEquals(List.of("a", "b", "c"), List.copyOf(s.sessions.keySet()));
      assertEquals("c2", s.cursor);
      assertEquals(new Badges.Count(3, 2, 3), s.badges.total);
      assertEquals(ClientState.Transport.STREAM, c.state().transport);
    }
    int before = bodies.size();
    pages.clear();
    try (ImsyncClient c = client(store, listener)) {
      assertEquals(3, c.snapshot().sessions.size(), "the stored mirror is there before the network answers");
      c.start();
      await(() -> c.state().kind == ClientState.Kind.LIVE, "live again");
    }
    int firstSync = requests.subList(before, requests.size()).indexOf("POST /v1/sync") + before;
    assertEquals("c2", Json.parse(bodies.get(firstSync)).path("cursor").asText(), "the restart resumes from the stored cursor");
    assertFalse(pages.get(0).reset);
  }

  @Test
  void aResetIsPagedAsideAndSwappedInWhole() {
    InMemoryStore store = new InMemoryStore();
    store.apply(new MirrorStore.Batch(false, List.of(new Session(Json.parse(session("a", 1, 100, 0, 0))),
        new Session(Json.parse(session("b", 1, 200, 0, 0))), new Session(Json.parse(session("c", 1, 300, 0, 0)))),
        List.of(), List.of(), List.of(), "old", 1));
    handler = r -> {
      String body = r.getBody().clone().readUtf8();
      if (r.getPath().equals("/v1/sync")) {
        String c = cursorOf(r, body);
        if (c.equals("old")) return json(200, page("r1", true, true, 9, GROUPS, List.of(session("x", 9, 900, 0, 0)), List.of()));
        if (c.equals("r1")) return json(200, page("r2", false, false, 9, "[]", List.of(session("b", 5, 200, 0, 0)), List.of()));
        return json(200, page(c, false, false, 9, "[]", List.of(), List.of()));
      }
      return common(r, "r2", 9);
    };
    List<Integer> sizesSeen = new CopyOnWriteArrayList<>();
    List<Session> replay = Collections.synchronizedList(new ArrayList<>());
    try (ImsyncClient c = client(store, new ClientListener() {})) {
      SessionListView all = c.view(null);
      all.subscribe(changes -> {
        changes.forEach(ch -> ch.applyTo(replay));
        sizesSeen.add(replay.size());
      });
      c.start();
      await(() -> c.state().kind == ClientState.Kind.LIVE, "live");
      assertEquals(List.of("x", "b"), all.current().stream().map(Session::id).collect(Collectors.toList()));
      assertEquals(all.current(), replay);
      assertEquals(List.of(3, 2), sizesSeen, "the list went from the old to the new in one step: it never showed the first page alone");
      assertEquals("r2", c.snapshot().cursor);
    }
  }

  @Test
  void actionsTakenOfflineAreKeptAndReplayedInOrderOnceOnline() {
    AtomicBoolean up = new AtomicBoolean(false);
    Map<String, String> sessionsNow = new ConcurrentHashMap<>();
    sessionsNow.put("a", session("a", 2, 200, 5, 0));
    sessionsNow.put("b", session("b", 2, 100, 1, 0));
    handler = r -> {
      if (!up.get()) return json(503, "{\"error\":{\"code\":\"unavailable\",\"message\":\"down\"}}");
      String path = r.getPath();
      String body = r.getBody().clone().readUtf8();
      if (path.equals("/v1/sync")) {
        String c = cursorOf(r, body);
        if (c == null) return json(200, page("c1", false, true, 2, GROUPS, new ArrayList<>(sessionsNow.values()), List.of()));
        return json(200, page(c, false, false, 2, "[]", List.of(), List.of()));
      }
      if (path.equals("/v1/sessions/a/read")) return json(200, "{\"session\":" + session("a", 3, 200, 5, 5) + ",\"version\":3}");
      if (path.equals("/v1/sessions/gone/unread")) return json(404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no session gone\"}}");
      if (path.equals("/v1/sessions/b/draft")) return json(200, "{\"session\":" + session("b", 4, 100, 1, 0) + ",\"version\":4}");
      return common(r, "c1", 2);
    };
    List<String> outcomes = new CopyOnWriteArrayList<>();
    List<ClientState> states = new CopyOnWriteArrayList<>();
    ClientListener listener = new ClientListener() {
      @Override
      public void onAction(PendingAction action, boolean accepted, String error) {
        outcomes.add(action.type + " " + action.sessionId + " " + accepted);
      }

      @Override
      public void onState(ClientState state) {
        states.add(state);
      }
    };
    InMemoryStore store = new InMemoryStore();
    try (ImsyncClient c = client(store, listener)) {
      c.start();
      await(() -> c.state().kind == ClientState.Kind.OFFLINE, "offline");
      assertNotNull(c.state().nextRetry, "offline says when it tries again");
      c.markRead("a", 5);
      c.markUnread("gone");
      c.setDraft("b", "later");
      assertEquals(3, store.pending().size(), "queued durably before the calls return");
      up.set(true);
      c.reconnectNow();
      await(() -> c.state().kind == ClientState.Kind.LIVE && store.pending().isEmpty(), "live with the queue sent");
      assertEquals(List.of("READ a true", "UNREAD gone false", "DRAFT b true"), outcomes);
      List<String> actionCalls = requests.stream().filter(x -> x.startsWith("POST /v1/sessions") || x.startsWith("PUT /v1/sessions"))
          .collect(Collectors.toList());
      assertEquals(List.of("POST /v1/sessions/a/read", "POST /v1/sessions/gone/unread", "PUT /v1/sessions/b/draft"), actionCalls);
      assertTrue(bodies.contains("{\"seq\":5}"));
      assertTrue(bodies.contains("{\"text\":\"later\"}"));
      MirrorSnapshot s = c.snapshot();
      assertEquals(3, s.sessions.get("a").version(), "the action's answer is kept");
      assertEquals(0, s.badges.total.unreadMessages - 1, "only b's message is unread");
      assertTrue(states.stream().anyMatch(x -> x.kind == ClientState.Kind.REPAIRING));
    }
  }

  @Test
  void repairReplacesTheBucketsThatDiffer() {
    InMemoryStore store = new InMemoryStore();
    store.apply(new MirrorStore.Batch(false, List.of(new Session(Json.parse(session("a", 5, 100, 0, 0))),
        new Session(Json.parse(session("stale", 4, 50, 0, 0)))), List.of(), List.of(), List.of(), "c1", 7));
    handler = r -> {
      String path = r.getPath();
      String body = r.getBody().clone().readUtf8();
      if (path.equals("/v1/sync")) return json(200, page(cursorOf(r, body), false, false, 7, "[]", List.of(), List.of()));
      if (path.equals("/v1/sync/verify")) {
        JsonNode digests = Json.parse(body).path("digests");
        assertEquals(1, digests.size(), "two sessions: one bucket");
        assertEquals(Digests.of(store.load().sessions.values(), 1)[0], digests.get(0).asText());
        return json(200, "{\"version\":7,\"cursor\":\"v7\",\"groups\":" + GROUPS + ",\"mismatched\":[0],\"sessions\":["
            + session("a", 7, 100, 3, 0) + "," + session("b", 6, 90, 0, 0) + "],\"unchecked\":[]}");
      }
      return common(r, "v7", 7);
    };
    List<int[]> repairs = new CopyOnWriteArrayList<>();
    try (ImsyncClient c = client(store, new ClientListener() {
      @Override
      public void onRepair(int buckets, int mismatchedBuckets, int sessionsFixed) {
        repairs.add(new int[] {buckets, mismatchedBuckets, sessionsFixed});
      }
    })) {
      c.start();
      await(() -> c.state().kind == ClientState.Kind.LIVE, "live");
      MirrorSnapshot s = c.snapshot();
      assertEquals(List.of("a", "b"), s.sessions.keySet().stream().sorted().collect(Collectors.toList()));
      assertEquals(7, s.sessions.get("a").version());
      assertEquals("v7", s.cursor);
      assertEquals(1, repairs.size());
      assertEquals("[1, 1, 2]", java.util.Arrays.toString(repairs.get(0)));
      assertEquals(s.sessions.keySet(), store.load().sessions.keySet(), "the repair is stored");
    }
  }

  @Test
  void aStreamThatNeverOpensFallsBackToLongPoll() {
    List<Integer> waits = new CopyOnWriteArrayList<>();
    handler = r -> {
      String path = r.getPath();
      String body = r.getBody().clone().readUtf8();
      if (path.startsWith("/v1/stream")) return json(400, "{\"error\":{\"code\":\"invalid_request\",\"message\":\"no websockets here\"}}");
      if (path.equals("/v1/sync")) {
        JsonNode n = Json.parse(body);
        int wait = n.path("wait_ms").asInt(0);
        if (wait > 0) waits.add(wait);
        String c = cursorOf(r, body);
        if (c == null) return json(200, page("c1", false, true, 1, GROUPS, List.of(session("a", 1, 1, 0, 0)), List.of()));
        return json(200, page(c, false, false, 1, "[]", List.of(), List.of()));
      }
      return common(r, "c1", 1);
    };
    try (ImsyncClient c = client(new InMemoryStore(), new ClientListener() {})) {
      c.start();
      await(() -> c.state().kind == ClientState.Kind.LIVE && c.state().transport == ClientState.Transport.LONG_POLL && !waits.isEmpty(),
          "live by long poll");
      assertEquals(1000, waits.get(0));
      assertEquals(1, c.snapshot().sessions.size());
    }
    assertTrue(requests.stream().filter(x -> x.equals("GET /v1/stream")).count() >= 2);
  }

}
