package imsync.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The benchmark's HTTP ceilings: the front end's own work (token, body), then a precomputed answer of a given size (at once, or after a sharded ask). */
@ExtendWith(LocalCassandra.class)
class BenchRoutesTest {

  @Test
  void ceilingAnswersExactlyTheAskedSizeAfterTheSameChecksAsASync() {
    try (TestNode node = TestNode.start("",
        BenchRoutes.mounted(ConfigFactory.parseString("redis { host = \"127.0.0.1\", port = 0, pool-size = 1 }")))) {
      Api api = node.api();
      String token = Api.deviceToken("ceiling-account", "d");
      Api.Response r = api.post("/bench/ceiling?bytes=5000", token, "{\"cursor\": \"x\", \"limit\": 200}");
      assertEquals(200, r.status(), r.raw().body());
      assertEquals(5000, r.raw().body().length());
      assertEquals(5000 - 10, r.body().get("pad").asText().length(), "a JSON object of exactly that size");
      assertEquals(401, api.post("/bench/ceiling?bytes=5000", null, "{}").status());
      assertEquals("invalid_json", api.post("/bench/ceiling", token, "{").errorCode());
      assertEquals("invalid_request", api.post("/bench/ceiling?bytes=nine", token, "{}").errorCode());
      // the ask ceiling: the same checks and the sync route's body rules, then an answer through a sharded ask
      Api.Response asked = api.post("/bench/ask-ceiling?bytes=3000", token, "{\"cursor\": \"x\", \"limit\": 200}");
      assertEquals(200, asked.status(), asked.raw().body());
      assertEquals(3000, asked.raw().body().length());
      assertEquals(401, api.post("/bench/ask-ceiling?bytes=3000", null, "{}").status());
      assertEquals("invalid_request", api.post("/bench/ask-ceiling", token, "{\"limit\": 0}").errorCode());
      // no Redis peer configured on this node: its routes are absent
      assertEquals(404, api.post("/bench/redis/v1/sync", token, "{}").status());
    }
  }
}
