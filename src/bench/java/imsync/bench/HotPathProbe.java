package imsync.bench;

import akka.http.javadsl.Http;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.AllDirectives;
import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A quick, local probe of the delta-sync hot path for profiling and A/B runs with wrk (not a benchmark of
 * record: {@code ./imsync bench} is). Starts a node on the test Cassandra, loads accounts x 200 sessions in
 * 4 custom groups, takes each account's caught-up cursor, changes 10 sessions of every account, then
 * writes {@code target/probe/delta.lua} (one request per account, cycled) and serves the same number of
 * static bytes on {@code /static} from the same JVM as the ceiling. Runs until killed.
 *
 * <p>Args: [accounts (2000)] [static port (18090)] [reuse]. With {@code reuse} it loads nothing and serves
 * the accounts of the previous run (its {@code delta.lua} still holds their tokens and cursors): for A/B
 * runs of node settings without the load. Needs {@code -Dimsync.test.cassandra.port}.
 */
public final class HotPathProbe {
  public static void main(String[] args) throws Exception {
    int accounts = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int staticPort = args.length > 1 ? Integer.parseInt(args[1]) : 18090;
    boolean reuse = args.length > 2 && args[2].equals("reuse");
    TestNode node = TestNode.start("imsync.rate-limit.per-second = 1000000\nimsync.rate-limit.burst = 1000000");
    Path dir = Path.of("target/probe");
    if (reuse) {
      serveStatic(node, staticPort, Integer.parseInt(Files.readString(dir.resolve("answer-bytes")).trim()));
      Files.writeString(dir.resolve("ports"), node.port + " " + staticPort + "\n");
      System.out.printf("ready (reusing the previous run's accounts): node http://127.0.0.1:%d, static http://127.0.0.1:%d/static%n",
          node.port, staticPort);
      Thread.currentThread().join();
    }
    Api api = node.api();
    String service = Api.serviceToken();
    String[] ids = new String[accounts];
    String run = "p" + (System.currentTimeMillis() % 1_000_000) + "-";
    for (int a = 0; a < accounts; a++) ids[a] = run + a;
    long t0 = System.nanoTime();
    for (int a0 = 0; a0 < accounts; a0 += 250) {
      List<String> chunk = Arrays.asList(ids).subList(a0, Math.min(accounts, a0 + 250));
      for (int j0 = 0; j0 < 200; j0 += 50) {
        List<String> events = new ArrayList<>();
        for (int j = j0; j < j0 + 50; j++) events.add(message("c:" + j, 1, 1_764_400_000_000L + j, chunk));
        retry(api, "POST", "/v1/ingest", service, "{\"events\":[" + String.join(",", events) + "]}");
      }
    }
    String[] tokens = new String[accounts];
    String[] cursors = new String[accounts];
    for (int a = 0; a < accounts; a++) {
      tokens[a] = Api.deviceToken(ids[a], "hot");
      for (int k = 0; k < 4; k++) {
        retry(api, "POST", "/v1/groups", tokens[a], "{\"group_id\":\"f" + k + "\",\"name\":\"Folder " + k + "\"}");
        List<String> sids = new ArrayList<>();
        for (int j = 0; j < 200; j++) if (groupsOf(a, j).contains("f" + k)) sids.add("\"c:" + j + "\"");
        retry(api, "PUT", "/v1/groups/f" + k + "/sessions", tokens[a], "{\"sessions\":[" + String.join(",", sids) + "]}");
      }
      String c = null;
      while (true) {
        JsonNode r = retry(api, "POST", "/v1/sync", tokens[a], c == null ? "{\"limit\":1000}" : "{\"cursor\":\"" + c + "\",\"limit\":1000}");
        c = r.get("cursor").asText();
        if (!r.get("has_more").asBoolean()) break;
      }
      cursors[a] = c;
    }
    for (int a0 = 0; a0 < accounts; a0 += 1000) {
      List<String> chunk = Arrays.asList(ids).subList(a0, Math.min(accounts, a0 + 1000));
      List<String> events = new ArrayList<>();
      for (int j = 0; j < 10; j++) events.add(message("c:" + j, 2, 1_764_500_000_000L + j, chunk));
      retry(api, "POST", "/v1/ingest", service, "{\"events\":[" + String.join(",", events) + "]}");
    }
    String body0 = "{\"cursor\":\"" + cursors[0] + "\",\"limit\":200}";
    Api.Response sample = api.post("/v1/sync", tokens[0], body0);
    int answerBytes = sample.raw().body().getBytes(StandardCharsets.UTF_8).length;
    System.out.printf("loaded %d accounts in %.1f s; a delta answer is %d bytes with %d sessions%n", accounts,
        (System.nanoTime() - t0) / 1e9, answerBytes, sample.body().get("sessions").size());

    Files.createDirectories(dir);
    Files.writeString(dir.resolve("answer-bytes"), answerBytes + "\n");
    StringBuilder lua = new StringBuilder("local reqs = {}\n");
    for (int a = 0; a < accounts; a++) {
      lua.append("reqs[").append(a + 1).append("] = wrk.format(\"POST\", \"/v1/sync\", {[\"Host\"]=\"127.0.0.1\", [\"Authorization\"]=\"Bearer ")
          .append(tokens[a]).append("\", [\"Content-Type\"]=\"application/json\"}, '{\"cursor\":\"").append(cursors[a])
          .append("\",\"limit\":200}')\n");
    }
    lua.append("local n = 0\nrequest = function()\n  n = n % #reqs + 1\n  return reqs[n]\nend\n");
    lua.append("response = function(status, headers, body)\n  if status ~= 200 then print(status) end\nend\n");
    Files.writeString(dir.resolve("delta.lua"), lua);
    Files.writeString(dir.resolve("static.lua"), "wrk.method = \"POST\"\nwrk.body = '{\"cursor\":null}'\n"
        + "wrk.headers[\"Content-Type\"] = \"application/json\"\n");

    serveStatic(node, staticPort, answerBytes);
    System.out.printf("ready: node http://127.0.0.1:%d (lua target/probe/delta.lua), static http://127.0.0.1:%d/static%n",
        node.port, staticPort);
    Files.writeString(dir.resolve("ports"), node.port + " " + staticPort + "\n");
    Thread.currentThread().join();
  }

  private static void serveStatic(TestNode node, int port, int bytes) throws Exception {
    byte[] filler = new byte[bytes];
    Arrays.fill(filler, (byte) 'x');
    class Static extends AllDirectives {}
    Static d = new Static();
    Http.get(node.system).newServerAt("127.0.0.1", port).bind(d.path("static", () ->
        d.complete(HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, filler)))))
        .toCompletableFuture().get();
  }

  /** Custom groups of session j of account a: 1 to 3 of f0..f3 (as the side-by-side benchmark). */
  static List<String> groupsOf(int a, int j) {
    int mix = Math.floorMod(a * 31 + j * 17, 12);
    List<String> gs = new ArrayList<>();
    for (int k = 0; k < 1 + mix % 3; k++) gs.add("f" + (mix / 3 + k) % 4);
    return gs;
  }

  static String message(String sid, long seq, long ts, List<String> accounts) {
    return "{\"type\":\"message\",\"account_ids\":[\"" + String.join("\",\"", accounts) + "\"],\"session_id\":\"" + sid
        + "\",\"session_kind\":\"group\",\"title\":\"Session " + sid + "\",\"seq\":" + seq
        + ",\"sender_id\":\"u\",\"preview\":\"a preview of a typical length for a chat message\",\"ts\":" + ts + "}";
  }

  static JsonNode check(Api.Response r) {
    if (r.status() != 200) throw new IllegalStateException(r.status() + " " + r.raw().body());
    return r.body();
  }

  /** The call, retried while the node answers 503 (a busy shared machine). */
  static JsonNode retry(Api api, String method, String path, String token, String body) {
    for (int attempt = 0; ; attempt++) {
      Api.Response r = api.call(method, path, token, body);
      if (r.status() != 503 || attempt == 30) return check(r);
    }
  }
}
