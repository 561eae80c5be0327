package imsync.it;

import static imsync.testkit.Api.deviceToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.StreamClient;
import imsync.testkit.TestNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two and three devices of one account over real HTTP and WebSocket: every change reaches the other
 * devices within 200 ms (awaited, not slept), long polls answer at once on change and after wait_ms
 * without one, the device registry records progress, and a client that stops reading is cut off after
 * a bounded amount of data.
 */
@ExtendWith(LocalCassandra.class)
class RealtimeTest {
  private static final AtomicInteger N = new AtomicInteger();
  private static final Duration PROMPT = Duration.ofMillis(200);
  private static TestNode node;
  private static Api api;

  @BeforeAll
  static void start() {
    // small socket buffers and a short slow-client timeout make the slow-reader test quick
    node = TestNode.start("imsync.stream.slow-client-timeout = 2s\n"
        + "akka.http.server.socket-options.so-send-buffer-size = 16k");
    api = node.api();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static String account() {
    return "rt-" + System.nanoTime() + "-" + N.incrementAndGet();
  }

  private static String cursorAfterFirstSync(String token) {
    Api.Response r = api.post("/v1/sync", token, "{\"limit\": 1000}");
    assertFalse(r.body().get("has_more").asBoolean());
    return r.body().get("cursor").asText();
  }

  @Test
  void longPollReturnsAtOnceOnChangeFromAnotherDevice() throws Exception {
    String a = account();
    api.message("dm:bob", 1, "bob", 1000, a);
    String phone = deviceToken(a, "phone");
    String tablet = deviceToken(a, "tablet");
    String cursor = cursorAfterFirstSync(tablet);
    CompletableFuture<HttpResponse<String>> poll = HttpClient.newHttpClient().sendAsync(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port + "/v1/sync"))
            .header("Authorization", "Bearer " + tablet)
            .POST(HttpRequest.BodyPublishers.ofString("{\"cursor\": \"" + cursor + "\", \"wait_ms\": 20000}")).build(),
        HttpResponse.BodyHandlers.ofString());
    // the poll is parked once the entity has seen it: the device registry then knows the tablet
    awaitDevice(phone, "tablet");
    assertFalse(poll.isDone());
    long changedAt = System.nanoTime();
    assertEquals(200, api.post("/v1/sessions/dm:bob/read", phone, "{\"seq\": 1}").status());
    HttpResponse<String> r = poll.get(PROMPT.toMillis() + 5_000, TimeUnit.MILLISECONDS);
    long latencyMs = (System.nanoTime() - changedAt) / 1_000_000;
    JsonNode body = Api.JSON.readTree(r.body());
    assertEquals(0, body.get("sessions").get(0).get("unread_count").asLong(), "the read reached the tablet");
    assertTrue(latencyMs < PROMPT.toMillis(), "long poll answered " + latencyMs + " ms after the change");
  }

  @Test
  void longPollWithoutChangeAnswersAfterWaitWithAGoodCursor() {
    String a = account();
    String t = deviceToken(a, "phone");
    api.message("dm:bob", 1, "bob", 1000, a);
    String cursor = cursorAfterFirstSync(t);
    long t0 = System.nanoTime();
    Api.Response r = api.post("/v1/sync", t, "{\"cursor\": \"" + cursor + "\", \"wait_ms\": 700}");
    long tookMs = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(200, r.status());
    assertTrue(tookMs >= 700, "held for wait_ms, took " + tookMs);
    assertEquals(0, r.body().get("sessions").size());
    assertFalse(r.body().get("has_more").asBoolean());
    api.message("dm:carol", 1, "carol", 2000, a);
    Api.Response next = api.post("/v1/sync", t, "{\"cursor\": \"" + r.body().get("cursor").asText() + "\"}");
    assertEquals("dm:carol", next.body().get("sessions").get(0).get("session_id").asText());
  }

  @Test
  void threeDevicesOnStreamsSeeEachChangePromptly() throws Exception {
    String a = account();
    api.message("dm:bob", 1, "bob", 1000, a);
    String phone = deviceToken(a, "phone");
    try (StreamClient tablet = StreamClient.connect(node.port, deviceToken(a, "tablet"), null);
         StreamClient desktop = StreamClient.connect(node.port, deviceToken(a, "desktop"), null)) {
      JsonNode catchUp = tablet.next(Duration.ofSeconds(5));
      assertEquals("dm:bob", catchUp.get("sessions").get(0).get("session_id").asText());
      desktop.next(Duration.ofSeconds(5));
      awaitDevice(phone, "desktop"); // connecting counts as syncing: the stream device is registered

      long t0 = System.nanoTime();
      api.message("dm:bob", 2, "bob", 2000, a);
      JsonNode onTablet = tablet.awaitSession("dm:bob", s -> s.get("unread_count").asLong() == 2, Duration.ofSeconds(5));
      long ingestLatency = (System.nanoTime() - t0) / 1_000_000;
      desktop.awaitSession("dm:bob", s -> s.get("unread_count").asLong() == 2, Duration.ofSeconds(5));
      assertEquals(2, onTablet.get("last_message").get("seq").asLong());

      long t1 = System.nanoTime();
      assertEquals(200, api.post("/v1/sessions/dm:bob/read", phone, "{\"seq\": 2}").status());
      tablet.awaitSession("dm:bob", s -> s.get("unread_count").asLong() == 0, Duration.ofSeconds(5));
      long readLatency = (System.nanoTime() - t1) / 1_000_000;
      desktop.awaitSession("dm:bob", s -> s.get("unread_count").asLong() == 0, Duration.ofSeconds(5));

      assertEquals(200, api.put("/v1/sessions/dm:bob/draft", phone, "{\"text\": \"typing\"}").status());
      desktop.awaitSession("dm:bob", s -> s.get("draft").path("text").asText().equals("typing"), Duration.ofSeconds(5));
      assertEquals(200, api.post("/v1/groups", phone, "{\"group_id\": \"work\", \"name\": \"Work\"}").status());
      JsonNode groupFrame = tablet.await(f -> f.get("groups").toString().contains("\"work\""), Duration.ofSeconds(5));
      assertEquals("Work", groupFrame.get("groups").get(0).get("name").asText());

      System.out.printf("stream latency: ingest %d ms, read on another device %d ms%n", ingestLatency, readLatency);
      assertTrue(ingestLatency < PROMPT.toMillis(), "ingest reached the stream in " + ingestLatency + " ms");
      assertTrue(readLatency < PROMPT.toMillis(), "a read reached the stream in " + readLatency + " ms");

      tablet.send("{\"ack\": \"" + groupFrame.get("cursor").asText() + "\"}");
      long acked = groupFrame.get("version").asLong();
      awaitDevice(phone, "tablet", d -> d.get("acked_version").asLong() == acked);
    }
  }

  @Test
  void nodeShutdownClosesStreamsCleanly() throws Exception {
    String a = account();
    api.message("dm:bob", 1, "bob", 1000, a);
    TestNode other = TestNode.start();
    try (StreamClient client = StreamClient.connect(other.port, deviceToken(a, "tablet"), null)) {
      System.out.println("stream frame: " + client.next(Duration.ofSeconds(5)));
      other.close();
      assertEquals(1000, client.closed.get(15, TimeUnit.SECONDS), "a normal close frame, so the client reconnects");
    }
  }

  @Test
  void devicesAreListedWithProgressAndCanBeForgotten() {
    String a = account();
    api.message("dm:bob", 1, "bob", 1000, a);
    String phone = deviceToken(a, "phone");
    String cursor = cursorAfterFirstSync(phone);
    api.post("/v1/sync", phone, "{\"cursor\": \"" + cursor + "\"}");
    cursorAfterFirstSync(deviceToken(a, "tablet"));
    api.message("dm:bob", 2, "bob", 2000, a);
    JsonNode list = api.get("/v1/devices", phone).body();
    assertEquals(2, list.get("version").asLong());
    JsonNode p = find(list, "phone");
    assertEquals(1, p.get("acked_version").asLong());
    assertEquals(1, p.get("behind").asLong());
    assertTrue(p.get("first_seen_at").asLong() <= p.get("last_seen_at").asLong());
    assertEquals("tablet", api.delete("/v1/devices/tablet", phone).body().get("removed_device").asText());
    assertEquals(1, api.get("/v1/devices", phone).body().get("devices").size());
    Api.Response unknown = api.delete("/v1/devices/tablet", phone);
    assertEquals(404, unknown.status());
    assertEquals("not_found", unknown.errorCode());
  }

  @Test
  void streamRejectsBadTokenAndCursorBeforeUpgrading() {
    Api.Response noToken = api.get("/v1/stream", null);
    assertEquals(401, noToken.status());
    Api.Response badCursor = api.get("/v1/stream?cursor=nope&access_token=" + deviceToken(account(), "p"), null);
    assertEquals(400, badCursor.status());
    assertEquals("invalid_cursor", badCursor.errorCode());
    Api.Response notWebSocket = api.get("/v1/stream?access_token=" + deviceToken(account(), "p"), null);
    assertEquals(400, notWebSocket.status());
  }

  /**
   * A client that never reads: the node computes a frame only when the connection takes one, so what it
   * pushes is bounded by the socket buffers, whatever the account's traffic; after the slow-client timeout
   * it closes the connection.
   */
  @Test
  void slowReaderIsBoundedAndCutOff() throws Exception {
    String a = account();
    String token = deviceToken(a, "slow");
    String preview = "x".repeat(500);
    int rounds = 60;
    int perRound = 200;
    long closedBefore = slowClientsClosed();
    try (Socket socket = new Socket()) {
      socket.setReceiveBufferSize(4096);
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", node.port));
      OutputStream out = socket.getOutputStream();
      String key = Base64.getEncoder().encodeToString("imsync-slow-key!".getBytes(StandardCharsets.US_ASCII));
      out.write(("GET /v1/stream?access_token=" + token + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String head = readHead(in);
      assertTrue(head.startsWith("HTTP/1.1 101"), head);
      long generated = 0;
      for (int r = 0; r < rounds; r++) {
        StringBuilder events = new StringBuilder();
        for (int i = 0; i < perRound; i++) {
          if (i > 0) events.append(',');
          events.append("{\"type\":\"message\",\"account_ids\":[\"").append(a).append("\"],\"session_id\":\"s").append(i)
              .append("\",\"seq\":").append(r + 1).append(",\"sender_id\":\"x\",\"preview\":\"").append(preview)
              .append("\",\"ts\":").append(1000 + r).append('}');
        }
        Api.Response ingest = api.post("/v1/ingest", Api.serviceToken(), "{\"events\":[" + events + "]}");
        assertEquals(200, ingest.status());
        generated += (long) perRound * preview.length();
      }
      // without reading, wait until the node has cut this stream off (its operators' view counts it)
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (slowClientsClosed() == closedBefore) {
        assertTrue(System.nanoTime() < deadline, "the node never cut off the slow reader");
        Thread.onSpinWait();
      }
      // now read what the node did push, until the connection ends
      socket.setSoTimeout(30_000);
      long received = 0;
      byte[] buf = new byte[65536];
      for (int n; (n = in.read(buf)) >= 0; ) received += n;
      System.out.printf("slow reader: %d KiB generated by the account, %d KiB pushed before the node closed%n",
          generated / 1024, received / 1024);
      assertTrue(received < generated / 3, "pushed " + received + " of " + generated + " bytes: not bounded");
    }
  }

  private static long slowClientsClosed() {
    Api.Response r = api.get("/admin/cluster", Api.operatorToken());
    assertEquals(200, r.status(), r.raw().body());
    return r.body().get("streams").get("slow_clients_closed").asLong();
  }

  private static String readHead(InputStream in) throws Exception {
    StringBuilder sb = new StringBuilder();
    while (!sb.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) break;
      sb.append((char) c);
    }
    return sb.toString();
  }

  private static JsonNode find(JsonNode list, String device) {
    for (JsonNode d : list.get("devices")) if (d.get("device_id").asText().equals(device)) return d;
    throw new AssertionError("no device " + device + " in " + list);
  }

  private static void awaitDevice(String token, String device) {
    awaitDevice(token, device, d -> true);
  }

  private static void awaitDevice(String token, String device, java.util.function.Predicate<JsonNode> condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      for (JsonNode d : api.get("/v1/devices", token).body().get("devices")) {
        if (d.get("device_id").asText().equals(device) && condition.test(d)) return;
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("device " + device + " never reached the expected state");
  }
}
