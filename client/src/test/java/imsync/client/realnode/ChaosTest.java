package imsync.client.realnode;

import static imsync.client.realnode.RealNode.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.client.Badges;
import imsync.client.ClientListener;
import imsync.client.ClientState;
import imsync.client.Group;
import imsync.client.ImsyncClient;
import imsync.client.Json;
import imsync.client.ListChange;
import imsync.client.MirrorSnapshot;
import imsync.client.MirrorStore;
import imsync.client.Session;
import imsync.client.SessionListView;
import imsync.client.SqliteStore;
import imsync.client.SyncPage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDK against a real node and a real Cassandra, under chaos. While a writer ingests messages and another
 * device acts on the account, the client's connection is cut (through {@link ChaosProxy}) at random moments,
 * taken down while the user acts offline, the node is killed and restarted, and the client itself is closed
 * and started again on its SQLite store, also as a process of its own killed with SIGKILL while live and acting,
 * and the store is tampered with meanwhile (a restored backup). At the end the
 * mirror equals a fresh first sync, the list changes every view emitted replay onto an empty list to the
 * view's list, and every badge equals the server's aggregates.
 */
class ChaosTest {
  static final Duration LONG = Duration.ofSeconds(90);
  static final String[] VIEWS = {null, "inbox", "archive", "work", "unread"};

  @TempDir
  Path dir;

  static RealNode node;

  @BeforeAll
  static void startNode() throws IOException {
    RealNode.ensureCassandra();
    node = new RealNode().start();
    node.awaitReady(LONG);
  }

  @AfterAll
  static void stopNode() {
    if (node != null) node.kill();
    RealNode.stopCassandraIfStartedHere();
  }

  final String account = "chaos-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100_000;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  final Random random = new Random(System.nanoTime());

  /** Every change each view emitted, across client restarts, in order. */
  final Map<String, List<ListChange<Session>>> emitted = new ConcurrentHashMap<>();
  final List<ClientState> states = new CopyOnWriteArrayList<>();
  final List<SyncPage> pages = new CopyOnWriteArrayList<>();
  final AtomicInteger mismatchedBuckets = new AtomicInteger();
  final AtomicInteger repairs = new AtomicInteger();

  JsonNode call(String method, String path, String token, String body) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.url() + path)).timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json");
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) throw new IOException(method + " " + path + ": " + r.statusCode() + " " + r.body());
    return Json.parse(r.body());
  }

  ImsyncClient client(Path file, ChaosProxy proxy) {
    String token = RealNode.token("device", account, "phone");
    ImsyncClient c = ImsyncClient.builder("http://127.0.0.1:" + proxy.port(), () -> token)
        .store(new SqliteStore(file))
        .pageLimit(25) // small pages: catch-ups and resets page several times
        .backoff(Duration.ofMillis(100), Duration.ofSeconds(2))
        .verifyEvery(Duration.ofSeconds(8))
        .listener(new ClientListener() {
          @Override
          public void onState(ClientState state) {
            states.add(state);
          }

          @Override
          public void onPage(SyncPage page, ClientState.Transport via) {
            pages.add(page);
          }

          @Override
          public void onRepair(int buckets, int mismatched, int fixed) {
            repairs.incrementAndGet();
            mismatchedBuckets.addAndGet(mismatched);
          }
        })
        .build();
    for (String v : VIEWS) {
      List<ListChange<Session>> log = emitted.computeIfAbsent(v == null ? "" : v, k -> new CopyOnWriteArrayList<>());
      c.view(v).subscribe(log::addAll);
    }
    return c;
  }

  /** The writer: messages from others and from the account itself, removals, and another device's actions. */
  final class Writer implements Runnable {
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicLong accepted = new AtomicLong();
    final Map<String, Long> seqs = new ConcurrentHashMap<>();
    final String service = RealNode.token("service", null, null);
    final String web = RealNode.token("device", account, "web");

    String sid(int i) {
      return (i % 3 == 0 ? "g:team" : "dm:u") + i;
    }

    @Override
    public void run() {
      Random r = new Random(random.nextLong());
      while (!stop.get()) {
        String sid = sid(r.nextInt(30));
        try {
          int dice = r.nextInt(100);
          if (dice < 65) {
            long seq = seqs.merge(sid, 1L, Long::sum);
            String sender = r.nextInt(10) == 0 ? account : "peer" + r.nextInt(5);
            String mentions = r.nextInt(8) == 0 ? ",\"mentions\":[\"" + account + "\"]" : "";
            call("POST", "/v1/ingest", service, "{\"events\":[{\"type\":\"message\",\"account_ids\":[\"" + account + "\"],\"session_id\":\""
                + sid + "\",\"session_kind\":\"" + (sid.startsWith("g:") ? "group" : "direct") + "\",\"title\":\"" + sid + "\",\"seq\":" + seq
                + ",\"sender_id\":\"" + sender + "\",\"preview\":\"m" + seq + "\",\"ts\":" + System.currentTimeMillis() + mentions + "}]}");
          } else if (dice < 68) {
            call("POST", "/v1/ingest", service, "{\"events\":[{\"type\":\"session_removed\",\"account_ids\":[\"" + account
                + "\"],\"session_id\":\"" + sid + "\",\"ts\":" + System.currentTimeMillis() + "}]}");
          } else if (dice < 78) {
            call("POST", "/v1/sessions/" + sid + "/read", web, "{\"seq\":" + seqs.getOrDefault(sid, 0L) + "}");
          } else if (dice < 82) {
            call("POST", "/v1/sessions/" + sid + "/unread", web, "{}");
          } else if (dice < 87) {
            call("PUT", "/v1/sessions/" + sid + "/box", web, "{\"box\":\"" + (r.nextBoolean() ? "archive" : "inbox") + "\"}");
          } else if (dice < 90) {
            call("PUT", "/v1/sessions/" + sid + "/mute", web, "{\"until\":" + (r.nextBoolean() ? 0 : System.currentTimeMillis() + 60_000) + "}");
          } else if (dice < 94) {
            call("PUT", "/v1/sessions/" + sid + "/draft", web, "{\"text\":\"" + (r.nextBoolean() ? "" : "draft " + r.nextInt(100)) + "\"}");
          } else if (dice < 98) {
            call(r.nextBoolean() ? "PUT" : "DELETE", "/v1/groups/work/sessions/" + sid, web, null);
          } else {
            call("PUT", "/v1/groups/inbox/pinned", web, "{\"sessions\":[]}");
          }
          accepted.incrementAndGet();
        } catch (IOException e) {
          // the node is restarting, or the session is gone (404): the next step goes on
        } catch (InterruptedException e) {
          return;
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(15)); // the writer's pace: a busy account, not a flood
      }
    }
  }

  /** Ready is not yet serving: the first account start on a fresh node may answer 503 for a while. */
  void awaitServing() {
    await(() -> {
      try {
        serverVersion();
        return true;
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }, LONG, "the node to serve the account");
  }

  long serverVersion() throws IOException, InterruptedException {
    return call("GET", "/v1/groups", RealNode.token("device", account, "checker"), null).path("version").asLong();
  }

  /** Waits until the client is live and has caught up with the account as it is now. */
  void awaitCaughtUp(ImsyncClient c, Duration timeout) throws IOException, InterruptedException {
    long target = serverVersion();
    await(() -> c.state().kind == ClientState.Kind.LIVE && c.snapshot().version >= target, timeout,
        "the client to catch up to version " + target + " (now " + c.state() + ")");
  }

  void awaitLeftLiveAndBack(ImsyncClient c, int statesBefore) {
    await(() -> states.subList(statesBefore, states.size()).stream().anyMatch(s -> s.kind != ClientState.Kind.LIVE)
        && c.state().kind == ClientState.Kind.LIVE, LONG, "the client to reconnect (now " + c.state() + ")");
  }

  @Test
  void theMirrorConvergesThroughCutsNodeRestartsAndClientRestarts() throws Exception {
    String web = RealNode.token("device", account, "web");
    awaitServing();
    call("POST", "/v1/groups", web, "{\"group_id\":\"work\",\"name\":\"Work\"}");
    // a smart folder: the client evaluates its rule locally, for its list and its badge
    call("POST", "/v1/groups", web, "{\"group_id\":\"unread\",\"name\":\"Unread\",\"rule\":{\"unread\":true,\"exclude\":[\"dm:u1\"]}}");
    // a session the writer never touches: a drift of it can only be found by the repair
    call("POST", "/v1/ingest", RealNode.token("service", null, null), "{\"events\":[{\"type\":\"message\",\"account_ids\":[\""
        + account + "\"],\"session_id\":\"dm:quiet\",\"session_kind\":\"direct\",\"title\":\"Quiet\",\"seq\":1,"
        + "\"sender_id\":\"peer9\",\"preview\":\"hello\",\"ts\":" + System.currentTimeMillis() + "}]}");
    Writer writer = new Writer();
    Thread writerThread = new Thread(writer, "chaos-writer");
    Path file = dir.resolve("mirror.db");
    try (ChaosProxy proxy = new ChaosProxy(node.httpPort)) {
      writerThread.start();
      ImsyncClient client = client(file, proxy);
      try {
        client.start();
        awaitCaughtUp(client, LONG);

        // a cut at a random moment: the stream drops, the client reconnects and repairs
        int before = states.size();
        proxy.sever();
        awaitLeftLiveAndBack(client, before);

        // offline: the user acts; the actions are queued, shown at once, and sent once back online
        proxy.setDown(true);
        await(() -> client.state().kind == ClientState.Kind.OFFLINE, LONG, "offline");
        assertTrue(client.state().nextRetry != null, "offline names its next retry");
        MirrorSnapshot offline = client.snapshot();
        Session unreadOne = offline.sessions.values().stream().filter(s -> s.unreadCount() > 0).findFirst().orElseThrow();
        List<Session> some = new ArrayList<>(offline.sessions.values());
        client.markRead(unreadOne.id(), unreadOne.lastSeq());
        client.setDraft(some.get(0).id(), "written offline");
        client.mute(some.get(1 % some.size()).id(), System.currentTimeMillis() + 3_600_000);
        client.moveToBox(some.get(2 % some.size()).id(), Group.ARCHIVE);
        client.markUnread(some.get(3 % some.size()).id());
        client.pin(Group.INBOX, some.get(4 % some.size()).id());
        await(() -> client.view(null).current().stream().filter(s -> s.id().equals(unreadOne.id())).allMatch(s -> s.unreadCount() == 0),
            LONG, "the offline read to show in the list");
        assertEquals(6, client.snapshot().pending.size(), "queued while offline");
        proxy.setDown(false);
        client.reconnectNow();
        await(() -> client.state().kind == ClientState.Kind.LIVE && client.snapshot().pending.isEmpty(), LONG, "the queue sent");

        // the node crashes and comes back
        before = states.size();
        node.kill();
        int killedAt = before;
        await(() -> states.subList(killedAt, states.size()).stream().anyMatch(s -> s.kind == ClientState.Kind.OFFLINE),
            LONG, "the client to notice the node is gone");
        node.start();
        node.awaitReady(LONG);
        awaitLeftLiveAndBack(client, before);
      } finally {
        client.close();
      }

      // the client as a process of its own (the demo terminal on the same store), killed with SIGKILL while it
      // is live, taking actions and applying frames: whatever it was writing, the store must still open and resume
      killClientProcess(file, proxy, writer);

      // the client is gone for a while; its stored mirror drifts (a restored backup): a session lost, one stale
      awaitWriterProgress(writer, 20);
      try (SqliteStore store = new SqliteStore(file)) {
        MirrorStore.Snapshot s = store.load();
        Session quiet = s.sessions.get("dm:quiet");
        Session stale = quiet.with(o -> o.put("version", 1).put("title", "stale"));
        Session ghost = quiet.with(o -> o.put("session_id", "dm:ghost").put("version", 3));
        String lost = s.sessions.keySet().stream().filter(id -> !id.equals("dm:quiet")).findFirst().orElseThrow();
        store.apply(new MirrorStore.Batch(false, List.of(stale, ghost), List.of(lost), List.of(), List.of(), null, 0));
      }
      int pagesBefore = pages.size();
      int mismatchedBefore = mismatchedBuckets.get();
      ImsyncClient second = client(file, proxy);
      try {
        second.start();
        awaitCaughtUp(second, LONG);
        assertFalse(pages.get(pagesBefore).reset, "the restarted client resumed from its stored cursor");
        assertTrue(mismatchedBuckets.get() > mismatchedBefore, "the drift was found by digest");
        MirrorSnapshot repaired = second.snapshot();
        assertFalse(repaired.sessions.containsKey("dm:ghost"), "a session the server does not have is gone");
        assertEquals("Quiet", repaired.sessions.get("dm:quiet").title(), "the stale session is the server's again");

        // cuts at random moments while the writer goes on
        for (int i = 0; i < 5; i++) {
          awaitWriterProgress(writer, 5 + random.nextInt(20));
          int cutAt = states.size();
          proxy.sever();
          awaitLeftLiveAndBack(second, cutAt);
        }
        writer.stop.set(true);
        writerThread.join(10_000);
        awaitCaughtUp(second, LONG);
        await(() -> second.snapshot().pending.isEmpty(), LONG, "the queue to be empty");
        assertConverged(second);
        System.out.printf("chaos: %d writer steps accepted, %d sessions at version %d, %d state changes (%d offline), %d pages, "
            + "%d repairs (%d buckets mismatched)%n", writer.accepted.get(), second.snapshot().sessions.size(), second.snapshot().version,
            states.size(), states.stream().filter(x -> x.kind == ClientState.Kind.OFFLINE).count(), pages.size(), repairs.get(),
            mismatchedBuckets.get());
      } finally {
        second.close();
      }
    } finally {
      writer.stop.set(true);
      writerThread.join(10_000);
    }
    assertTrue(repairs.get() >= 4, "a repair after every reconnect: " + repairs.get());
  }

  void killClientProcess(Path file, ChaosProxy proxy, Writer writer) throws Exception {
    Path screen = dir.resolve("demo-screen.txt");
    Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
        "-cp", System.getProperty("java.class.path"), "imsync.client.demo.TerminalDemo",
        "--url", "http://127.0.0.1:" + proxy.port(), "--token", RealNode.token("device", account, "phone"),
        "--account", account, "--store", file.toString())
        .redirectErrorStream(true).redirectOutput(screen.toFile()).start();
    try {
      await(() -> {
        if (!demo.isAlive()) throw new AssertionError("the demo process exited: " + readQuietly(screen));
        return readQuietly(screen).contains("LIVE (stream)");
      }, LONG, "the client process to go live");
      java.io.Writer stdin = new java.io.OutputStreamWriter(demo.getOutputStream(), java.nio.charset.StandardCharsets.UTF_8);
      stdin.write("r 1\nu 2\nd 3 from a process about to die\nm 4\n");
      stdin.flush();
      awaitWriterProgress(writer, random.nextInt(8));
    } finally {
      demo.destroyForcibly();
      assertTrue(demo.waitFor(30, TimeUnit.SECONDS), "the client process is gone");
    }
  }

  static String readQuietly(Path file) {
    try {
      return java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  void awaitWriterProgress(Writer writer, int steps) {
    long target = writer.accepted.get() + steps;
    await(() -> writer.accepted.get() >= target, LONG, "the writer to make progress");
  }

  void assertConverged(ImsyncClient client) throws Exception {
    // a fresh first sync of another device, paged to the end
    String fresh = RealNode.token("device", account, "fresh-" + System.nanoTime() % 10_000);
    Map<String, JsonNode> serverSessions = new LinkedHashMap<>();
    Map<String, JsonNode> serverGroups = new LinkedHashMap<>();
    String cursor = null;
    long version;
    while (true) {
      ObjectNode body = Json.object();
      if (cursor == null) body.putNull("cursor");
      else body.put("cursor", cursor);
      body.put("limit", 100);
      JsonNode page = call("POST", "/v1/sync", fresh, Json.write(body));
      for (JsonNode s : page.path("sessions")) serverSessions.put(s.get("session_id").asText(), s);
      for (JsonNode id : page.path("removed_sessions")) serverSessions.remove(id.asText());
      for (JsonNode g : page.path("groups")) serverGroups.put(g.get("group_id").asText(), g);
      for (JsonNode id : page.path("removed_groups")) serverGroups.remove(id.asText());
      cursor = page.get("cursor").asText();
      version = page.get("version").asLong();
      if (!page.path("has_more").asBoolean()) break;
    }
    MirrorSnapshot mine = client.snapshot();
    assertEquals(version, mine.version, "the mirror is as of the account's version");
    assertEquals(serverSessions.keySet().stream().sorted().collect(java.util.stream.Collectors.toList()),
        mine.sessions.keySet().stream().sorted().collect(java.util.stream.Collectors.toList()), "the same sessions");
    for (Map.Entry<String, JsonNode> e : serverSessions.entrySet()) {
      assertEquals(e.getValue(), mine.sessions.get(e.getKey()).json(), "session " + e.getKey() + " field for field");
    }
    assertEquals(serverGroups.keySet(), new java.util.HashSet<>(mine.groups.keySet()), "the same groups");
    for (Map.Entry<String, JsonNode> e : serverGroups.entrySet()) {
      assertEquals(e.getValue(), mine.groups.get(e.getKey()).json(), "group " + e.getKey() + " field for field");
    }
    assertTrue(serverSessions.size() >= 10, "the writer wrote a list worth checking: " + serverSessions.size());

    // every view's emitted changes, replayed onto an empty list, give the view's list, in the server's order
    Map<String, Session> sessions = new LinkedHashMap<>();
    serverSessions.forEach((id, s) -> sessions.put(id, new Session(s)));
    Map<String, Group> groups = new LinkedHashMap<>();
    serverGroups.forEach((id, g) -> groups.put(id, new Group(g)));
    for (String v : VIEWS) {
      List<Session> replay = new ArrayList<>();
      for (ListChange<Session> change : emitted.get(v == null ? "" : v)) change.applyTo(replay);
      assertEquals(client.view(v).current(), replay, "view " + v + ": the replayed changes");
      assertEquals(SessionListView.order(v, sessions, groups), replay, "view " + v + ": the server's list in its order");
    }

    // every badge equals the server's aggregates
    Badges badges = client.badges();
    long totalSessions = 0;
    long totalMessages = 0;
    for (JsonNode g : serverGroups.values()) {
      Badges.Count c = badges.groups.get(g.get("group_id").asText());
      String what = "badge of " + g.get("group_id").asText();
      assertEquals(g.get("unread_sessions").asLong(), c.unreadSessions, what);
      assertEquals(g.get("unread_messages").asLong(), c.unreadMessages, what);
      assertEquals(g.get("session_count").asLong(), c.sessions, what);
      if (g.get("kind").asText().equals("system")) {
        totalSessions += g.get("unread_sessions").asLong();
        totalMessages += g.get("unread_messages").asLong();
      }
    }
    assertEquals(totalSessions, badges.total.unreadSessions, "total unread sessions");
    assertEquals(totalMessages, badges.total.unreadMessages, "total unread messages");
    assertTrue(totalMessages > 0, "a badge worth checking");
  }
}
