package imsync.multijvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * API v1.2 on a real cluster of three JVMs (ports the OS picked, beside the fixed-port clusters): an
 * account erased through one node stays erased when an operator moves its shard to another node and
 * when the node hosting it is killed (SIGKILL) and restarted; its old cursor resets through any node; a
 * late message starts it anew with that message alone; and the audit log, read through a third node,
 * names the erasure and the move.
 */
@ExtendWith(LocalCassandra.class)
class LifecycleMultiJvmTest {
  private static final String OP_SUB = "multi-jvm-op";
  private static final String OP = Api.AUTH.issue("operator", OP_SUB, null, System.currentTimeMillis() / 1000 + 7200);
  private static final List<NodeProcess> nodes = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    int[] remote = {NodeProcess.freePort(), NodeProcess.freePort(), NodeProcess.freePort()};
    String seeds = "akka://imsync@127.0.0.1:" + remote[0] + ",akka://imsync@127.0.0.1:" + remote[1];
    for (int i = 0; i < 3; i++) {
      nodes.add(new NodeProcess(100 + i, NodeProcess.freePort(), remote[i], NodeProcess.freePort(), seeds));
    }
    // the first node alone first: on an empty Cassandra it creates the schema
    nodes.get(0).start().awaitReady(Duration.ofSeconds(120));
    String warmUp = Api.deviceToken("lifecycle-warm-up", "test");
    NodeProcess.await(() -> nodes.get(0).api().get("/v1/groups", warmUp).status() == 200, Duration.ofSeconds(180), "the schema");
    for (int i = 1; i < 3; i++) nodes.get(i).start();
    for (NodeProcess n : nodes) n.awaitReady(Duration.ofSeconds(120));
    NodeProcess.await(() -> upMembers(nodes.get(0)) == 3, Duration.ofSeconds(60), "three up members");
  }

  @AfterAll
  static void stopCluster() {
    for (NodeProcess n : nodes) if (n.alive()) n.kill9();
  }

  private static int upMembers(NodeProcess via) {
    Api.Response r = via.api().get("/admin/cluster", OP);
    if (r.status() != 200) return -1;
    int up = 0;
    for (JsonNode m : r.body().get("members")) if (m.get("status").asText().equals("up")) up++;
    return up;
  }

  /** The first 200 answer of a call that may meet a shard in hand-off (503 meanwhile). */
  private static JsonNode await200(String what, java.util.function.Supplier<Api.Response> call) {
    AtomicReference<JsonNode> body = new AtomicReference<>();
    NodeProcess.await(() -> {
      Api.Response r = call.get();
      assertTrue(r.status() == 200 || r.status() == 503, what + ": " + r.status() + " " + r.raw().body());
      if (r.status() == 200) body.set(r.body());
      return r.status() == 200;
    }, Duration.ofSeconds(90), what);
    return body.get();
  }

  private static JsonNode export(NodeProcess via, String account) {
    return await200("export of " + account, () -> via.api().get("/admin/accounts/" + account + "/export", OP));
  }

  private static NodeProcess hosting(String account) {
    String address = await200("the account's node", () -> nodes.get(0).api().get("/admin/accounts/" + account, OP)).get("node").asText();
    return nodes.stream().filter(n -> n.address().equals(address)).findFirst().orElseThrow();
  }

  @Test
  void anErasedAccountStaysErasedThroughAShardMoveAndANodeRestart() {
    String account = "lifecycle-mj-" + System.currentTimeMillis() % 1_000_000;
    String phone = Api.deviceToken(account, "phone");
    long t0 = System.currentTimeMillis() - 1;
    for (int i = 1; i <= 6; i++) {
      int seq = i;
      await200("ingest " + i, () -> nodes.get(0).api().post("/v1/ingest", Api.serviceToken(), "{\"events\":[{\"type\":\"message\","
          + "\"account_ids\":[\"" + account + "\"],\"session_id\":\"dm:bob\",\"session_kind\":\"direct\",\"title\":\"Bob\",\"seq\":" + seq
          + ",\"sender_id\":\"bob\",\"preview\":\"secret " + seq + "\",\"ts\":" + (1000 + seq) + "}]}"));
    }
    JsonNode synced = await200("first sync", () -> nodes.get(1).api().post("/v1/sync", phone, "{\"limit\": 100}"));
    String oldCursor = synced.get("cursor").asText();
    assertEquals(6, synced.get("version").asLong());

    JsonNode erased = await200("erasure", () -> nodes.get(2).api().delete("/admin/accounts/" + account, OP));
    assertTrue(erased.get("events").asLong() >= 6, erased.toString());

    // an operator moves the erased account's shard to another node
    NodeProcess from = hosting(account);
    NodeProcess to = nodes.stream().filter(n -> n != from).findFirst().orElseThrow();
    String shard = await200("stats", () -> nodes.get(0).api().get("/admin/accounts/" + account, OP)).get("shard_id").asText();
    await200("shard move", () -> nodes.get(1).api().post("/admin/shards/" + shard + "/move", OP, "{\"to\": \"" + to.address() + "\"}"));
    NodeProcess.await(() -> hosting(account) == to, Duration.ofSeconds(90), "the shard to move to " + to.address());
    JsonNode moved = export(nodes.get(0), account);
    assertEquals(0, moved.get("version").asLong(), "nothing erased comes back on the new node");
    assertEquals(0, moved.get("sessions").size());

    // the node now hosting it dies and comes back
    int index = nodes.indexOf(to);
    to.kill9();
    NodeProcess restarted = to.again().start();
    nodes.set(index, restarted);
    restarted.awaitReady(Duration.ofSeconds(120));
    NodeProcess other = nodes.get(index == 0 ? 1 : 0);
    NodeProcess.await(() -> upMembers(other) == 3, Duration.ofSeconds(90), "the restarted node back as a member");
    for (NodeProcess n : nodes) {
      JsonNode e = export(n, account);
      assertEquals(0, e.get("version").asLong(), "after the restart, through " + n.address());
      assertEquals(0, e.get("sessions").size());
      assertEquals(0, e.get("devices").size());
    }
    JsonNode reset = await200("sync with the old cursor", () -> nodes.get(2).api().post("/v1/sync", phone,
        "{\"limit\": 100, \"cursor\": \"" + oldCursor + "\"}"));
    assertTrue(reset.get("reset").asBoolean(), "a cursor from before the erasure resets");

    // a late message of the old conversation starts the account anew, with it alone
    await200("late message", () -> nodes.get(1).api().post("/v1/ingest", Api.serviceToken(), "{\"events\":[{\"type\":\"message\","
        + "\"account_ids\":[\"" + account + "\"],\"session_id\":\"dm:bob\",\"session_kind\":\"direct\",\"title\":\"Bob\",\"seq\":4,"
        + "\"sender_id\":\"bob\",\"preview\":\"late\",\"ts\":1004}]}"));
    JsonNode anew = export(nodes.get(2), account);
    assertEquals(1, anew.get("version").asLong());
    assertEquals(1, anew.get("sessions").size());
    assertEquals("late", anew.get("sessions").get(0).get("last_message").get("preview").asText());
    assertEquals(1, anew.get("sessions").get(0).get("unread_count").asLong());

    JsonNode audit = await200("audit log", () -> nodes.get(2).api().get("/admin/audit?after=" + t0, OP));
    List<String> mine = new ArrayList<>();
    for (JsonNode e : audit.get("entries")) {
      if (OP_SUB.equals(e.get("operator").asText()) && (e.get("target").asText().equals(account) || e.get("target").asText().equals(shard))) {
        mine.add(e.get("action").asText());
      }
    }
    assertEquals(List.of("account.erase", "shard.move"), mine.subList(0, 2), "audit: " + mine);
  }

  /** An export far larger than one remoting frame (256 KiB) answers whole through every node, whichever hosts the account. */
  @Test
  void aLargeAccountExportsWholeThroughEveryNode() {
    String account = "lifecycle-big-" + System.currentTimeMillis() % 1_000_000;
    String preview = "p".repeat(500);
    StringBuilder events = new StringBuilder();
    int sessions = 900;
    for (int i = 0; i < sessions; i++) {
      if (i > 0) events.append(',');
      events.append("{\"type\":\"message\",\"account_ids\":[\"").append(account).append("\"],\"session_id\":\"s").append(i)
          .append("\",\"session_kind\":\"group\",\"title\":\"T\",\"seq\":1,\"sender_id\":\"x\",\"preview\":\"").append(preview)
          .append("\",\"ts\":").append(1000 + i).append('}');
    }
    await200("ingest", () -> nodes.get(0).api().post("/v1/ingest", Api.serviceToken(), "{\"events\":[" + events + "]}"));
    for (NodeProcess n : nodes) {
      JsonNode e = export(n, account);
      assertEquals(sessions, e.get("sessions").size(), "through " + n.address());
      assertEquals(sessions, e.get("version").asLong());
    }
  }
}
