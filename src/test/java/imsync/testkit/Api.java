package imsync.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import imsync.http.Auth;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A small HTTP client for the API in tests: tokens, JSON in and out. Every response is checked against
 * the repo's {@code openapi.yaml} ({@link OpenApiContract}): one that the document does not allow fails
 * the calling test, naming the route, the status and what is wrong.
 */
public final class Api {
  public static final ObjectMapper JSON = new ObjectMapper();
  public static final Auth AUTH = new Auth(TestSettings.SECRET.getBytes(StandardCharsets.UTF_8));
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final String base;

  public Api(String base) {
    this.base = base;
  }

  public record Response(int status, JsonNode body, HttpResponse<String> raw) {
    public String errorCode() {
      return body == null ? null : body.path("error").path("code").asText(null);
    }
  }

  private static final java.util.concurrent.atomic.AtomicInteger ACCOUNTS = new java.util.concurrent.atomic.AtomicInteger();

  /** A fresh account id per test (unique across runs on the shared test Cassandra): tests stay independent. */
  public static String uniqueAccount(String prefix) {
    return prefix + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000 + "-" + ACCOUNTS.incrementAndGet();
  }

  /** The answer is the contract's error shape with this status and code, and a message. */
  public static void assertError(Response r, int status, String code) {
    org.junit.jupiter.api.Assertions.assertEquals(status, r.status(), r.raw().body());
    org.junit.jupiter.api.Assertions.assertEquals(code, r.errorCode(), r.raw().body());
    org.junit.jupiter.api.Assertions.assertFalse(r.body().path("error").path("message").asText().isEmpty());
  }

  public static String deviceToken(String account, String device) {
    return AUTH.issue("device", account, device, System.currentTimeMillis() / 1000 + 3600);
  }

  public static String serviceToken() {
    return AUTH.issue("service", null, null, System.currentTimeMillis() / 1000 + 3600);
  }

  public static String operatorToken() {
    return AUTH.issue("operator", null, null, System.currentTimeMillis() / 1000 + 3600);
  }

  public Response call(String method, String path, String token, String body) {
    return call(method, path, token, body, Duration.ofSeconds(30));
  }

  /** A call that must be answered within {@code within}: later, it fails (HttpTimeoutException inside). */
  public Response call(String method, String path, String token, String body, Duration within) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(within)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) b.header("Authorization", "Bearer " + token);
    if (body != null) b.header("Content-Type", "application/json");
    try {
      HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
      conforms(method, path, r);
      boolean isJson = r.headers().firstValue("Content-Type").orElse("").startsWith("application/json");
      JsonNode json = r.body().isEmpty() || !isJson ? null : JSON.readTree(r.body());
      return new Response(r.statusCode(), json, r);
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Fails (AssertionError) when the response is not what openapi.yaml says {@code method path} answers. */
  public static void conforms(String method, String pathAndQuery, HttpResponse<String> r) {
    var problems = OpenApiContract.DOCUMENT.check(method, pathAndQuery, r.statusCode(), r.headers().map(), r.body());
    if (!problems.isEmpty()) {
      String route = OpenApiContract.DOCUMENT.find(method, pathAndQuery.split("\\?", 2)[0])
          .map(Object::toString).orElse(method + " " + pathAndQuery + " (undocumented)");
      throw new AssertionError("response breaks openapi.yaml: " + route + " answered " + r.statusCode() + ": "
          + String.join("; ", problems) + "\n  body: " + r.body());
    }
  }

  public Response get(String path, String token) {
    return call("GET", path, token, null);
  }

  public Response post(String path, String token, String body) {
    return call("POST", path, token, body);
  }

  public Response put(String path, String token, String body) {
    return call("PUT", path, token, body);
  }

  public Response delete(String path, String token) {
    return call("DELETE", path, token, null);
  }

  /** Ingests one message to the given accounts; expects 200. */
  public JsonNode message(String session, long seq, String sender, long ts, String... accounts) {
    String ids = String.join("\",\"", accounts);
    Response r = post("/v1/ingest", serviceToken(), "{\"events\":[{\"type\":\"message\",\"account_ids\":[\"" + ids + "\"],"
        + "\"session_id\":\"" + session + "\",\"session_kind\":\"direct\",\"title\":\"T\",\"seq\":" + seq
        + ",\"sender_id\":\"" + sender + "\",\"preview\":\"hi\",\"ts\":" + ts + "}]}");
    if (r.status() != 200) throw new AssertionError("ingest: " + r.status() + " " + r.raw().body());
    return r.body();
  }
}
