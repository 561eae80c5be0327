package imsync.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A test client of {@code /v1/stream} on the JDK's WebSocket: frames as JSON, waited for with deadlines.
 * Every frame taken is checked against openapi.yaml (the stream's frame schema): one that breaks it fails
 * the test.
 */
public final class StreamClient implements AutoCloseable {
  private final WebSocket socket;
  private final BlockingQueue<JsonNode> frames;
  /** Completes with the close status code the server sent (or -1 when the connection failed). */
  public final CompletableFuture<Integer> closed;
  /** The UTF-8 length of every text frame received, in order (stream max_bytes tests). */
  public final java.util.List<Integer> frameBytes;

  private StreamClient(WebSocket socket, BlockingQueue<JsonNode> frames, CompletableFuture<Integer> closed,
                       java.util.List<Integer> frameBytes) {
    this.socket = socket;
    this.frames = frames;
    this.closed = closed;
    this.frameBytes = frameBytes;
  }

  public static StreamClient connect(int port, String token, String cursor) throws Exception {
    return connect(port, token, cursor == null ? "" : "?cursor=" + cursor, true);
  }

  /** {@code query}: the whole query string ("" or "?..."). */
  public static StreamClient connect(int port, String token, String query, boolean rawQuery) throws Exception {
    BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    CompletableFuture<Integer> closed = new CompletableFuture<>();
    java.util.List<Integer> frameBytes = new java.util.concurrent.CopyOnWriteArrayList<>();
    WebSocket.Listener listener = new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
      }

      @Override
      public void onError(WebSocket ws, Throwable error) {
        closed.complete(-1);
      }

      private final StringBuilder partial = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          try {
            frameBytes.add(partial.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
            frames.add(Api.JSON.readTree(partial.toString()));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          partial.setLength(0);
        }
        ws.request(1);
        return null;
      }
    };
    WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
        .header("Authorization", "Bearer " + token)
        .connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create("ws://127.0.0.1:" + port + "/v1/stream" + query), listener)
        .get(10, TimeUnit.SECONDS);
    return new StreamClient(ws, frames, closed, frameBytes);
  }

  /** The next frame, or an AssertionError after {@code timeout}. */
  public JsonNode next(Duration timeout) throws InterruptedException {
    JsonNode f = frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (f == null) throw new AssertionError("no frame within " + timeout);
    return conforms(f);
  }

  private static JsonNode conforms(JsonNode frame) {
    var problems = OpenApiContract.DOCUMENT.checkFrame("GET", "/v1/stream", frame);
    if (!problems.isEmpty()) {
      throw new AssertionError("stream frame breaks openapi.yaml (GET /v1/stream): " + String.join("; ", problems) + "\n  frame: " + frame);
    }
    return frame;
  }

  /** Skips frames until one satisfies the condition. */
  public JsonNode await(Predicate<JsonNode> condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      JsonNode f = frames.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
      if (f == null) throw new AssertionError("no matching frame within " + timeout);
      if (condition.test(conforms(f))) return f;
    }
  }

  /** Waits for a frame carrying the session in the wanted state; returns the session. */
  public JsonNode awaitSession(String sessionId, Predicate<JsonNode> condition, Duration timeout) throws InterruptedException {
    JsonNode[] hit = new JsonNode[1];
    await(f -> {
      for (JsonNode s : f.get("sessions")) {
        if (s.get("session_id").asText().equals(sessionId) && condition.test(s)) {
          hit[0] = s;
          return true;
        }
      }
      return false;
    }, timeout);
    return hit[0];
  }

  public void send(String text) {
    socket.sendText(text, true).join();
  }

  @Override
  public void close() {
    CompletableFuture<WebSocket> f = socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
    try {
      f.get(5, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      socket.abort();
    }
  }
}
