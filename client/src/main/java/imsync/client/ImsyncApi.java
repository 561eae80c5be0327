package imsync.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.function.Supplier;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;

/** The device's calls of the imsync HTTP API (see API.md), blocking, on OkHttp. */
public final class ImsyncApi {
  private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

  private final HttpUrl base;
  private final OkHttpClient http;
  private final Supplier<String> token;
  private final ClientListener listener;

  public ImsyncApi(String baseUrl, OkHttpClient http, Supplier<String> token, ClientListener listener) {
    this.base = HttpUrl.get(baseUrl);
    this.http = http;
    this.token = token;
    this.listener = listener;
  }

  public SyncPage sync(String cursor, int limit, int waitMs, Integer maxBytes) throws IOException {
    ObjectNode body = Json.object();
    if (cursor == null) body.putNull("cursor");
    else body.put("cursor", cursor);
    body.put("limit", limit);
    if (waitMs > 0) body.put("wait_ms", waitMs);
    if (maxBytes != null) body.put("max_bytes", maxBytes);
    return SyncPage.parse(call("sync", "POST", "/v1/sync", body));
  }

  /** {@code POST /v1/sync/verify} of the whole account. */
  public JsonNode verify(String[] digests) throws IOException {
    ObjectNode body = Json.object();
    body.putNull("groups");
    ArrayNode d = body.putArray("digests");
    for (String s : digests) d.add(s);
    return call("verify", "POST", "/v1/sync/verify", body);
  }

  public JsonNode groups() throws IOException {
    return call("groups", "GET", "/v1/groups", null);
  }

  /** One terminal action; {@code body} null for a call without one. */
  public JsonNode action(String route, String method, String path, ObjectNode body) throws IOException {
    return call(route, method, path, body);
  }

  public WebSocket stream(String cursor, WebSocketListener wsListener) {
    HttpUrl.Builder url = base.newBuilder().addPathSegments("v1/stream");
    if (cursor != null) url.addQueryParameter("cursor", cursor);
    Request request = new Request.Builder().url(url.build()).header("Authorization", "Bearer " + token.get()).build();
    return http.newWebSocket(request, wsListener);
  }

  static String path(String... segments) {
    HttpUrl.Builder b = new HttpUrl.Builder().scheme("http").host("x");
    for (String s : segments) b.addPathSegment(s);
    return b.build().encodedPath();
  }

  private JsonNode call(String route, String method, String path, ObjectNode body) throws IOException {
    // a base URL with a path (a node behind a reverse proxy at /imsync/) keeps it
    String prefix = base.encodedPath().endsWith("/") ? base.encodedPath().substring(0, base.encodedPath().length() - 1) : base.encodedPath();
    HttpUrl url = base.newBuilder().encodedPath(prefix + path).build();
    RequestBody rb = body == null ? (method.equals("GET") || method.equals("DELETE") ? null : RequestBody.create("{}", JSON))
        : RequestBody.create(Json.write(body), JSON);
    Request request = new Request.Builder().url(url).method(method, rb).header("Authorization", "Bearer " + token.get()).build();
    long start = System.nanoTime();
    int status = -1;
    try (Response response = http.newCall(request).execute()) {
      status = response.code();
      ResponseBody rbody = response.body();
      String text = rbody == null ? "" : rbody.string();
      if (response.isSuccessful()) return text.isEmpty() ? Json.object() : Json.parse(text);
      JsonNode err = Json.MAPPER.createObjectNode();
      try {
        err = Json.parse(text).path("error");
      } catch (RuntimeException notJson) {
        // a proxy's error page: the status alone says enough
      }
      long retryAfter = 0;
      String ra = response.header("Retry-After");
      if (ra != null) {
        try {
          retryAfter = Long.parseLong(ra.trim());
        } catch (NumberFormatException ignored) {
          // an HTTP date: keep our own backoff
        }
      }
      throw new ApiException(status, err.path("code").asText("http_" + status), err.path("message").asText(Json.abbreviate(text)), retryAfter);
    } finally {
      listener.onRequest(route, status, System.nanoTime() - start);
    }
  }
}
