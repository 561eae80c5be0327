package imsync.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The state machine on refusals and on a cursor the server cannot read, against a scripted server. */
class EngineStatesTest {
  private MockWebServer server;
  private volatile java.util.function.Function<RecordedRequest, MockResponse> handler;

  @BeforeEach
  void startServer() throws Exception {
    server = new MockWebServer();
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest r) {
        MockResponse answer = handler.apply(r);
        return answer != null ? answer : EngineTest.json(404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no route\"}}");
      }
    });
    server.start();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.shutdown();
  }

  ImsyncClient client(MirrorStore store, List<ClientState> states) {
    return ImsyncClient.builder(server.url("/").toString(), () -> "token").store(store)
        .listener(new ClientListener() {
          @Override
          public void onState(ClientState state) {
            states.add(state);
          }
        })
        .backoff(Duration.ofMillis(20), Duration.ofMillis(200)).build();
  }

  @Test
  void aRefusedTokenIsAnErrorStateThatSaysWhyAndRetries() {
    handler = r -> EngineTest.json(401, "{\"error\":{\"code\":\"unauthorized\",\"message\":\"token expired\"}}");
    List<ClientState> states = new CopyOnWriteArrayList<>();
    try (ImsyncClient c = client(new InMemoryStore(), states)) {
      c.start();
      EngineTest.await(() -> states.stream().filter(s -> s.kind == ClientState.Kind.ERROR).count() >= 2, "two refusals");
      ClientState error = states.stream().filter(s -> s.kind == ClientState.Kind.ERROR).findFirst().orElseThrow();
      assertTrue(error.detail.contains("unauthorized"), error.detail);
      assertNotNull(error.nextRetry);
      assertEquals(ClientState.Kind.SYNCING, states.get(0).kind);
    }
  }

  @Test
  void aCursorTheServerCannotReadStartsOverWithoutEmptyingTheList() {
    InMemoryStore store = new InMemoryStore();
    store.apply(new MirrorStore.Batch(false, List.of(new Session(Json.parse(EngineTest.session("a", 1, 100, 0, 0))),
        new Session(Json.parse(EngineTest.session("b", 1, 200, 0, 0)))), List.of(), List.of(), List.of(), "foreign", 1));
    AtomicBoolean sawNullCursor = new AtomicBoolean();
    handler = r -> {
      String body = r.getBody().clone().readUtf8();
      if (r.getPath().equals("/v1/sync")) {
        String c = EngineTest.cursorOf(r, body);
        if ("foreign".equals(c)) return EngineTest.json(400, "{\"error\":{\"code\":\"invalid_cursor\",\"message\":\"cursor does not decode\"}}");
        if (c == null) {
          sawNullCursor.set(true);
          // a first sync answers without reset; the client must still treat it as one (b is gone)
          return EngineTest.json(200, EngineTest.page("f1", true, false, 5, EngineTest.GROUPS, List.of(EngineTest.session("a", 5, 100, 0, 0)), List.of()));
        }
        if (c.equals("f1")) return EngineTest.json(200, EngineTest.page("f2", false, false, 5, "[]", List.of(EngineTest.session("c", 4, 300, 0, 0)), List.of()));
        return EngineTest.json(200, EngineTest.page(c, false, false, 5, "[]", List.of(), List.of()));
      }
      return EngineTest.common(r, "f2", 5);
    };
    List<Integer> sizes = new CopyOnWriteArrayList<>();
    List<Session> replay = Collections.synchronizedList(new ArrayList<>());
    try (ImsyncClient c = client(store, new CopyOnWriteArrayList<>())) {
      c.view(null).subscribe(changes -> {
        changes.forEach(ch -> ch.applyTo(replay));
        sizes.add(replay.size());
      });
      c.start();
      EngineTest.await(() -> c.state().kind == ClientState.Kind.LIVE, "live");
      assertTrue(sawNullCursor.get());
      assertEquals(List.of("a", "c"), c.snapshot().sessions.keySet().stream().sorted().collect(Collectors.toList()));
      assertEquals(List.of(2, 2), sizes, "the old list until the new one is complete, then the new one in one step");
      assertEquals("f2", store.load().cursor);
    }
  }
}
