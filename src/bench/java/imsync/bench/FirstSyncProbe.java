package imsync.bench;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import imsync.testkit.Api;
import imsync.testkit.TestNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A quick, local probe of complete first syncs for profiling (not a benchmark of record: {@code ./imsync
 * bench} is). Starts a node on the test Cassandra, loads one account of 10,000 sessions in 4 custom groups
 * besides the inbox, then runs complete first syncs (pages of 1,000) one after another, reading from each
 * answer only its cursor and has_more (a streaming scan), and prints syncs per second and the server's
 * share. Args: [rounds (10)] [syncs per round (20)]. Needs {@code -Dimsync.test.cassandra.port}.
 */
public final class FirstSyncProbe {
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    TestNode node = TestNode.start("imsync.rate-limit.per-second = 1000000\nimsync.rate-limit.burst = 1000000");
    Api api = node.api();
    String service = Api.serviceToken();
    String account = "f" + (System.currentTimeMillis() % 1_000_000);
    String token = Api.deviceToken(account, "d");
    for (int j0 = 0; j0 < 10_000; j0 += 500) {
      List<String> events = new ArrayList<>();
      for (int j = j0; j < j0 + 500; j++) events.add(HotPathProbe.message("c:" + j, 1, 1_764_400_000_000L + j, List.of(account)));
      HotPathProbe.retry(api, "POST", "/v1/ingest", service, "{\"events\":[" + String.join(",", events) + "]}");
    }
    for (int k = 0; k < 4; k++) {
      HotPathProbe.retry(api, "POST", "/v1/groups", token, "{\"group_id\":\"f" + k + "\",\"name\":\"Folder " + k + "\"}");
      for (int j0 = 0; j0 < 10_000; j0 += 1000) {
        List<String> sids = new ArrayList<>();
        for (int j = j0; j < j0 + 1000; j++) if (HotPathProbe.groupsOf(0, j).contains("f" + k)) sids.add("\"c:" + j + "\"");
        HotPathProbe.retry(api, "PUT", "/v1/groups/f" + k + "/sessions", token, "{\"sessions\":[" + String.join(",", sids) + "]}");
      }
    }
    HttpClient http = HttpClient.newHttpClient();
    URI sync = URI.create("http://127.0.0.1:" + node.port + "/v1/sync");
    double[] rates = new double[rounds];
    long bytes = 0;
    for (int r = 0; r < rounds; r++) {
      long t0 = System.nanoTime();
      for (int k = 0; k < perRound; k++) {
        String cursor = null;
        bytes = 0;
        while (true) {
          String body = cursor == null ? "{\"limit\":1000}" : "{\"cursor\":\"" + cursor + "\",\"limit\":1000}";
          HttpResponse<byte[]> resp = http.send(HttpRequest.newBuilder(sync).header("Authorization", "Bearer " + token)
              .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
          if (resp.statusCode() != 200) throw new IllegalStateException(resp.statusCode() + " " + new String(resp.body()));
          bytes += resp.body().length;
          String[] next = cursorAndMore(resp.body());
          cursor = next[0];
          if (!Boolean.parseBoolean(next[1])) break;
        }
      }
      rates[r] = perRound / ((System.nanoTime() - t0) / 1e9);
      System.out.printf("round %d: %.1f complete first syncs/s (%,d bytes each)%n", r, rates[r], bytes);
    }
    Arrays.sort(rates);
    System.out.printf("median %.1f/s [%.1f–%.1f]%n", rates[rounds / 2], rates[0], rates[rounds - 1]);
    node.close();
    System.exit(0);
  }

  /** The answer's top-level cursor and has_more, scanning past everything else. */
  static String[] cursorAndMore(byte[] body) throws java.io.IOException {
    String cursor = null;
    String more = null;
    try (JsonParser p = JSON.getFactory().createParser(body)) {
      p.nextToken();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String f = p.currentName();
        JsonToken t = p.nextToken();
        if (f.equals("cursor")) cursor = p.getText();
        else if (f.equals("has_more")) more = Boolean.toString(t == JsonToken.VALUE_TRUE);
        else p.skipChildren();
      }
    }
    return new String[] {cursor, more};
  }
}
