package imsync.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import imsync.core.AccountState;
import imsync.core.Box;
import imsync.core.Decision;
import imsync.core.ErrorCode;
import imsync.core.IngestItem;
import imsync.core.Limits;
import imsync.core.Session;
import imsync.http.Auth;
import imsync.http.JsonViews;
import imsync.http.RateLimiter;
import imsync.testkit.Api;
import imsync.testkit.TestSettings;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * The Redis inbox peer against a real redis-server (one per class, no persistence): imsync's ingest rules,
 * group aggregates, and the sync rules (order, paging under change, deltas, batch limits, convergence),
 * plus the same ingest stream through imsync's own AccountState giving the same sessions.
 */
class RedisInboxTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long T0 = 1_764_400_000_000L;
  private static final AtomicInteger ACCOUNTS = new AtomicInteger();
  private static Process redis;
  private static int port;
  private static RedisInbox inbox;

  @BeforeAll
  static void startRedis() throws IOException {
    port = freePort();
    redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    await("redis-server answers PING", () -> {
      try (Jedis j = new Jedis("127.0.0.1", port)) {
        return "PONG".equals(j.ping());
      } catch (RuntimeException e) {
        return false;
      }
    });
    inbox = new RedisInbox("127.0.0.1", port, 8);
  }

  @AfterAll
  static void stopRedis() throws InterruptedException {
    if (inbox != null) inbox.close();
    if (redis != null) {
      redis.destroy();
      redis.waitFor(10, TimeUnit.SECONDS);
    }
  }

  // ---------------------------------------------------------------- ingest rules

  @Test
  void ingestFollowsImsyncRules() {
    String a = account();
    assertEquals(new RedisInbox.IngestResult(1, 0), ingest(a, msg("dm:bob", 40, "bob", T0)));
    Map<String, JsonNode> s = fresh(a).sessions;
    assertEquals(39, s.get("dm:bob").get("read_seq").asLong(), "a first message counts as one unread");
    assertEquals(1, s.get("dm:bob").get("unread_count").asLong());

    assertEquals(new RedisInbox.IngestResult(2, 2),
        ingest(a, msg("dm:bob", 41, "bob", T0 + 1), msg("dm:bob", 42, "bob", T0 + 2), msg("dm:bob", 42, "bob", T0 + 2), msg("dm:bob", 3, "bob", T0)));
    assertEquals(new RedisInbox.IngestResult(0, 1), ingest(a, msg("dm:bob", 42, "bob", T0 + 2)), "a replay is ignored");
    JsonNode bob = fresh(a).sessions.get("dm:bob");
    assertEquals(3, bob.get("unread_count").asLong());
    assertEquals(42, bob.get("last_message").get("seq").asLong());
    assertEquals(T0 + 2, bob.get("sort_key").asLong());
    assertEquals(3, bob.get("version").asLong());

    ingest(a, msg("dm:bob", 43, a, T0 + 3));
    bob = fresh(a).sessions.get("dm:bob");
    assertEquals(43, bob.get("read_seq").asLong(), "the account's own message reads everything");
    assertEquals(0, bob.get("unread_count").asLong());

    ingest(a, msg("dm:x", 7, a, T0 + 4));
    assertEquals(0, fresh(a).sessions.get("dm:x").get("unread_count").asLong(), "a session created by an own message starts read");

    ingest(a, mention("g:team", 1, "bob", T0 + 5, a), mention("g:team", 2, "carol", T0 + 6, a, "zed"), mention("g:team", 3, "bob", T0 + 7, "zed"));
    assertEquals(2, fresh(a).sessions.get("g:team").get("mention_count").asLong());
    ingest(a, mention("g:team", 4, a, T0 + 8, a));
    assertEquals(0, fresh(a).sessions.get("g:team").get("mention_count").asLong(), "reading drops the mentions, an own mention is none");

    // kind and title: the latest event time wins; an update creates the session, its first message counts as one
    assertEquals(1, ingest(a, new IngestItem.Update("ch:news", "channel", "News", T0 + 10)).accepted());
    assertEquals(0, ingest(a, new IngestItem.Update("ch:news", "channel", "Old", T0 + 9)).accepted());
    assertEquals(0, ingest(a, new IngestItem.Update("ch:news", "channel", "News", T0 + 11)).accepted(), "nothing changes");
    ingest(a, new IngestItem.Message("ch:news", null, "Fresh", 100, "bot", "hi", T0 + 12, List.of()));
    JsonNode news = fresh(a).sessions.get("ch:news");
    assertEquals("channel", news.get("kind").asText());
    assertEquals("Fresh", news.get("title").asText());
    assertEquals(99, news.get("read_seq").asLong());
    assertEquals(1, news.get("unread_count").asLong());

    // an archived chat that is not muted comes back to the inbox on someone else's message
    join(inbox.moveBox(a, "dm:bob", Box.ARCHIVE));
    assertEquals("archive", fresh(a).sessions.get("dm:bob").get("box").asText());
    ingest(a, msg("dm:bob", 44, a, T0 + 13));
    assertEquals("archive", fresh(a).sessions.get("dm:bob").get("box").asText(), "an own message leaves it archived");
    ingest(a, msg("dm:bob", 45, "bob", T0 + 14));
    assertEquals("inbox", fresh(a).sessions.get("dm:bob").get("box").asText());
  }

  @Test
  void removedSessionsComeBackOnlyWithAHigherSeq() {
    String a = account();
    ingest(a, msg("s", 5, "bob", T0));
    Client c = new Client(a);
    c.catchUp(100);
    assertEquals(0, ingest(a, new IngestItem.Removed("s", T0 - 1)).accepted(), "older than the session: a retry");
    assertEquals(1, ingest(a, new IngestItem.Removed("s", T0 + 1)).accepted());
    JsonNode delta = c.page(100);
    assertEquals(List.of("s"), texts(delta.get("removed_sessions")));
    assertEquals(0, delta.get("sessions").size());
    assertTrue(c.sessions.isEmpty());
    assertEquals(0, ingest(a, msg("s", 5, "bob", T0 + 2)).accepted(), "not above the removed session's seq");
    assertEquals(1, ingest(a, msg("s", 6, "bob", T0 + 3)).accepted());
    JsonNode s = fresh(a).sessions.get("s");
    assertEquals(5, s.get("read_seq").asLong(), "brought back with the seq it had");
    assertEquals(1, s.get("unread_count").asLong());
    c.catchUp(100);
    assertEquals(fresh(a).sessions, c.sessions);

    ingest(a, new IngestItem.Removed("s", T0 + 4));
    assertEquals(0, ingest(a, new IngestItem.Update("s", null, "T", T0 + 4)).accepted(), "an update no newer than the removal");
    assertEquals(1, ingest(a, new IngestItem.Update("s", null, "T", T0 + 5)).accepted());
    assertEquals(6, fresh(a).sessions.get("s").get("read_seq").asLong());
  }

  // ---------------------------------------------------------------- groups

  @Test
  void groupAggregatesFollowEveryChange() {
    String a = account();
    ingest(a, msg("a", 1, "bob", T0), msg("a", 2, "bob", T0 + 1), msg("b", 1, "bob", T0 + 2), msg("c", 1, a, T0 + 3));
    RedisInbox.GroupResult work = join(inbox.createGroup(a, "work", "Work"));
    assertEquals(2, work.group().position());
    assertEquals(5, work.version());
    assertEquals(3, join(inbox.createGroup(a, "play", "Play")).group().position());
    assertEquals(ErrorCode.CONFLICT, error(inbox.createGroup(a, "work", "Again")));
    assertEquals(ErrorCode.INVALID_REQUEST, error(inbox.createGroup(a, "inbox", "Mine")));
    assertEquals(ErrorCode.NOT_FOUND, error(inbox.addMembers(a, "nope", List.of("a"))));
    assertEquals(ErrorCode.NOT_FOUND, error(inbox.addMembers(a, "work", List.of("a", "zz"))));
    assertEquals(ErrorCode.INVALID_REQUEST, error(inbox.addMembers(a, "inbox", List.of("a"))));

    RedisInbox.AddResult added = join(inbox.addMembers(a, "work", List.of("a", "b", "c", "a")));
    assertEquals(3, added.added());
    assertEquals(9, added.version(), "one change per member");
    assertEquals(0, join(inbox.addMembers(a, "work", List.of("b"))).added());
    join(inbox.addMembers(a, "play", List.of("a")));

    Client f = fresh(a);
    assertEquals(List.of("play", "work"), texts(f.sessions.get("a").get("groups")), "sorted by group id");
    JsonNode w = f.groups.get("work");
    assertEquals(3, w.get("session_count").asInt());
    assertEquals(2, w.get("unread_sessions").asInt());
    assertEquals(3, w.get("unread_messages").asLong());
    assertEquals(9, w.get("version").asLong());
    assertAggregates(f);

    ingest(a, msg("a", 3, a, T0 + 4)); // reads "a"
    f = fresh(a);
    assertEquals(1, f.groups.get("work").get("unread_sessions").asInt());
    assertEquals(11, f.groups.get("work").get("version").asLong());
    assertEquals(11, f.groups.get("play").get("version").asLong());
    assertEquals(11, f.sessions.get("a").get("version").asLong());
    assertAggregates(f);

    join(inbox.setPinned(a, "work", List.of("b")));
    RedisInbox.SessionsPage folder = join(inbox.groupSessions(a, "work", null, 2));
    assertEquals(List.of("b", "a"), texts(parse(folder.toJson()).get("sessions"), "session_id"), "pins first, then recency");
    RedisInbox.SessionsPage rest = join(inbox.groupSessions(a, "work", folder.next(), 2));
    assertEquals(List.of("c"), texts(parse(rest.toJson()).get("sessions"), "session_id"));
    assertEquals(null, rest.next());
    ingest(a, new IngestItem.Removed("b", T0 + 5));
    f = fresh(a);
    assertEquals(List.of(), texts(f.groups.get("work").get("pinned")), "a removed session leaves the pins");
    assertAggregates(f);

    for (int i = 2; i < 32; i++) join(inbox.createGroup(a, "g" + i, "G" + i));
    assertEquals(ErrorCode.LIMIT_EXCEEDED, error(inbox.createGroup(a, "g32", "G32")));
  }

  // ---------------------------------------------------------------- sync

  @Test
  void firstSyncGoesInOrderAndPagingMissesNoChange() {
    String a = account();
    List<IngestItem> items = new ArrayList<>();
    for (int i = 0; i < 30; i++) items.add(msg(String.format("s%02d", i), 1, "bob", T0 + i / 3)); // ties by three
    ingest(a, items.toArray(IngestItem[]::new));
    join(inbox.setPinned(a, Box.INBOX, List.of("s10", "s20")));

    List<String> expected = firstSyncOrder(fresh(a));
    assertEquals(List.of("s10", "s20", "s27", "s28", "s29", "s24", "s25"), expected.subList(0, 7));
    Client c = new Client(a);
    JsonNode p1 = c.page(7);
    assertEquals(expected.subList(0, 7), ids(p1.get("sessions")));
    assertEquals(2, p1.get("groups").size(), "a first page carries every group");
    assertTrue(p1.get("has_more").asBoolean());
    JsonNode p2 = c.page(7);
    // the walk goes on in recency order and skips the pinned sessions page one sent (s20)
    assertEquals(List.of("s26", "s21", "s22", "s23", "s18", "s19", "s15"), ids(p2.get("sessions")));
    assertEquals(0, p2.get("groups").size());

    // while the client pages: a not yet sent session jumps ahead of the walk, one already sent changes,
    // one is removed, one is new
    ingest(a, msg("s00", 2, "bob", T0 + 100), msg("s29", 2, "bob", T0 + 101), new IngestItem.Removed("s15", T0 + 102),
        msg("new", 1, "carol", T0 + 103));
    c.catchUp(7);
    Client f = fresh(a);
    assertEquals(f.sessions, c.sessions);
    assertEquals(f.groups, c.groups);
    assertEquals(f.version, c.version);
    assertFalse(c.sessions.containsKey("s15"));
    assertEquals(30, c.sessions.size());
  }

  /** Issue 8, as in imsync: paging a first sync sends each pinned session once, at every page size. */
  @Test
  void pagedFirstSyncSendsPinnedSessionsOnce() {
    String a = account();
    List<IngestItem> items = new ArrayList<>();
    for (int i = 0; i < 60; i++) items.add(msg(String.format("s%02d", i), 1, "bob", T0 + i));
    ingest(a, items.toArray(IngestItem[]::new));
    join(inbox.createGroup(a, "fav", "Fav"));
    List<String> favs = new ArrayList<>();
    for (int i = 0; i < 60; i += 6) favs.add(String.format("s%02d", i));
    join(inbox.addMembers(a, "fav", favs));
    join(inbox.setPinned(a, Box.INBOX, List.of("s03", "s30", "s59")));
    join(inbox.setPinned(a, "fav", List.of("s12", "s30")));
    for (int limit : new int[] {1, 7, 20}) {
      Client c = new Client(a);
      Map<String, Integer> times = new HashMap<>();
      List<String> order = new ArrayList<>();
      do {
        for (String id : ids(c.page(limit).get("sessions"))) {
          times.merge(id, 1, Integer::sum);
          order.add(id);
        }
      } while (c.hasMore);
      for (var e : times.entrySet()) assertEquals(1, e.getValue(), e.getKey() + " sent once at limit " + limit);
      assertEquals(60, times.size(), "every session at limit " + limit);
      assertEquals(List.of("s03", "s30", "s59", "s12"), order.subList(0, 4), "pinned first at limit " + limit);
      assertEquals(fresh(a).sessions, c.sessions, "converges at limit " + limit);
    }
  }

  @Test
  void rankWalkSurvivesItsPositionMovingAmongTies() {
    String a = account();
    List<IngestItem> items = new ArrayList<>();
    for (int i = 0; i < 20; i++) items.add(msg("t" + (char) ('a' + i), 1, "bob", T0)); // all one sort_key
    ingest(a, items.toArray(IngestItem[]::new));
    Client c = new Client(a);
    assertEquals(List.of("ta", "tb", "tc"), ids(c.page(3).get("sessions")));
    ingest(a, new IngestItem.Removed("tc", T0 + 1)); // the walk's position is gone
    assertEquals(List.of("td", "te", "tf"), ids(c.page(3).get("sessions")));
    ingest(a, msg("tf", 2, "bob", T0 + 2)); // ... and has moved
    assertEquals(List.of("tg", "th", "ti"), ids(c.page(3).get("sessions")));
    c.catchUp(3);
    assertEquals(fresh(a).sessions, c.sessions);
  }

  @Test
  void deltaCarriesOnlyWhatChangedAndRepeats() {
    String a = account();
    for (int i = 0; i < 10; i++) ingest(a, msg("s" + i, 1, "bob", T0 + i));
    join(inbox.createGroup(a, "work", "Work"));
    join(inbox.addMembers(a, "work", List.of("s0", "s1")));
    Client c = new Client(a);
    c.catchUp(1000);
    long v = c.version;
    String cursor = c.cursor;

    RedisInbox.SyncPage empty = join(inbox.sync(a, cursor, 100));
    assertEquals(0, empty.sessions().size());
    assertEquals(0, empty.groups().size());
    assertFalse(empty.hasMore());
    assertEquals(v, empty.version());
    assertEquals(new String(empty.toJson(), StandardCharsets.UTF_8), new String(join(inbox.sync(a, cursor, 100)).toJson(), StandardCharsets.UTF_8),
        "the same cursor with no change in between gives the same content");

    ingest(a, msg("s3", 2, "bob", T0 + 20), msg("s7", 2, a, T0 + 21), msg("s7", 2, a, T0 + 21));
    JsonNode d = c.page(100);
    assertEquals(Set.of("s3", "s7"), new HashSet<>(ids(d.get("sessions"))));
    for (JsonNode s : d.get("sessions")) assertTrue(s.get("version").asLong() > v);
    assertEquals(List.of("inbox"), texts(d.get("groups"), "group_id"), "work did not change");
    for (JsonNode g : d.get("groups")) assertTrue(g.get("version").asLong() > v);
    assertFalse(d.get("has_more").asBoolean());
    assertEquals(fresh(a).sessions, c.sessions);
  }

  @Test
  void limitBoundsEveryBatchAndCursorsAreChecked() {
    String a = account();
    for (int i = 0; i < 12; i++) ingest(a, msg("s" + i, 1, "bob", T0 + i));
    Client c = new Client(a);
    c.catchUp(5);
    for (int i = 0; i < 12; i++) ingest(a, i % 4 == 0 ? new IngestItem.Removed("s" + i, T0 + 100 + i) : msg("s" + i, 2, "bob", T0 + 100 + i));
    Set<String> seen = new HashSet<>();
    int pages = 0;
    do {
      JsonNode r = c.page(5);
      pages++;
      seen.addAll(ids(r.get("sessions")));
      seen.addAll(texts(r.get("removed_sessions")));
    } while (c.hasMore);
    assertEquals(3, pages);
    assertEquals(12, seen.size());
    assertEquals(fresh(a).sessions, c.sessions);

    assertEquals(ErrorCode.INVALID_CURSOR, error(inbox.sync(a, "garbage!", 10)));
    assertEquals(ErrorCode.INVALID_CURSOR, error(inbox.sync(a, "RnwxfDI", 10)));
    assertEquals(ErrorCode.INVALID_CURSOR, error(inbox.sync(account(), c.cursor, 10)), "another account's cursor");
  }

  @Test
  void aCursorFromANewerHistoryResets() {
    String a = account();
    ingest(a, msg("s", 1, "bob", T0));
    String cursor = fresh(a).cursor;
    try (Jedis j = new Jedis("127.0.0.1", port)) {
      j.set(PeerKeys.ver(a), "0"); // as if the data were lost
    }
    RedisInbox.SyncPage p = join(inbox.sync(a, cursor, 10));
    assertTrue(p.reset());
    assertEquals(1, p.sessions().size());
  }

  /**
   * Random ingest (messages from anyone, mentions, updates, removals), members, boxes and pins, with two
   * clients paging at random points: at every quiet point each client, having followed its cursors, holds
   * exactly what a fresh first sync holds, and imsync's AccountState fed the same stream holds the same.
   */
  @Test
  void randomOpsConvergeAndMatchImsync() {
    String a = account();
    long seed = Long.getLong("peer.seed", 42); // -Dpeer.seed=N replays another run
    Random rnd = new Random(seed);
    AccountState model = new AccountState(Limits.defaults());
    Client[] clients = {new Client(a), new Client(a)};
    List<String> senders = List.of(a, "bob", "carol", "dave");
    Map<String, Long> seqs = new HashMap<>();
    long clock = T0;
    for (String g : List.of("g1", "g2", "g3")) {
      join(inbox.createGroup(a, g, g.toUpperCase()));
      apply(model, model.decideCreateGroup(g, g.toUpperCase(), clock));
    }
    for (int round = 0; round < 10; round++) {
      for (int op = 0; op < 40; op++) {
        clock += 1000;
        int kind = rnd.nextInt(100);
        String sid = "s" + rnd.nextInt(40);
        if (kind < 60) {
          List<IngestItem> batch = new ArrayList<>();
          for (int k = rnd.nextInt(3) + 1; k > 0; k--) {
            String s = k == 1 ? sid : "s" + rnd.nextInt(40);
            long seq = rnd.nextInt(10) == 0 ? Math.max(1, seqs.getOrDefault(s, 1L) - 1) : seqs.merge(s, (long) rnd.nextInt(3) + 1, Long::sum);
            List<String> mentions = rnd.nextInt(5) == 0 ? List.of(a) : List.of();
            batch.add(new IngestItem.Message(s, rnd.nextBoolean() ? "group" : null, rnd.nextBoolean() ? "T" + rnd.nextInt(5) : null, seq,
                senders.get(rnd.nextInt(senders.size())), "p" + seq, clock + k, mentions));
          }
          both(a, model, batch);
        } else if (kind < 68) {
          both(a, model, List.of(new IngestItem.Update(sid, "channel", "U" + rnd.nextInt(3), clock - rnd.nextInt(3000))));
        } else if (kind < 73) {
          both(a, model, List.of(new IngestItem.Removed(sid, clock)));
        } else if (kind < 85) {
          String g = "g" + (rnd.nextInt(3) + 1);
          List<String> live = liveIds(model);
          List<String> pick = new ArrayList<>();
          for (String s : live) if (rnd.nextInt(4) == 0) pick.add(s);
          if (!pick.isEmpty()) {
            join(inbox.addMembers(a, g, pick));
            for (String s : pick) apply(model, model.decideAddMember(g, s, clock));
          }
        } else if (kind < 95) {
          if (model.session(sid) != null) {
            String box = rnd.nextBoolean() ? Box.ARCHIVE : Box.INBOX;
            join(inbox.moveBox(a, sid, box));
            apply(model, model.decideBox(sid, box, clock));
          }
        } else {
          String g = rnd.nextBoolean() ? Box.INBOX : "g1";
          List<String> members = new ArrayList<>();
          for (String s : liveIds(model)) if (model.session(s).inGroup(g) && members.size() < 2 && rnd.nextBoolean()) members.add(s);
          join(inbox.setPinned(a, g, members));
          apply(model, model.decideSetPinned(g, members, clock));
        }
        if (rnd.nextInt(10) < 3) {
          Client c = clients[rnd.nextInt(2)];
          c.page(rnd.nextInt(8) + 1);
        }
      }
      Client f = fresh(a);
      for (Client c : clients) {
        c.catchUp(rnd.nextInt(8) + 1);
        assertEquals(f.sessions, c.sessions, "seed " + seed + ", round " + round);
        assertEquals(f.groups, c.groups, "seed " + seed + ", round " + round);
        assertEquals(f.version, c.version);
      }
      assertAggregates(f);
      assertSameAsImsync(model, f);
    }
  }

  /** The same ingest stream through imsync's AccountState (decideIngest + apply): same sessions but versions. */
  @Test
  void sameIngestStreamGivesTheSameSessionsAsImsync() {
    String a = account();
    AccountState model = new AccountState(Limits.defaults());
    List<IngestItem> stream = List.of(
        msg("dm:bob", 40, "bob", T0), msg("dm:bob", 41, "bob", T0 + 1), mention("g:team", 3, "carol", T0 + 2, a),
        new IngestItem.Update("ch:x", "channel", "X", T0 + 3), msg("ch:x", 9, "bot", T0 + 4), msg("dm:bob", 41, "bob", T0 + 5),
        msg("dm:bob", 42, a, T0 + 6), new IngestItem.Update("ch:x", null, "Older", T0 + 2), new IngestItem.Removed("g:team", T0 + 7),
        mention("g:team", 4, "carol", T0 + 8, a), mention("g:team", 3, "carol", T0 + 9, a), msg("dm:eve", 1, a, T0 + 10));
    for (int i = 0; i < stream.size(); i += 3) both(a, model, stream.subList(i, Math.min(stream.size(), i + 3)));
    Client f = fresh(a);
    assertEquals(model.sessionCount(), f.sessions.size());
    assertSameAsImsync(model, f);
  }

  /** Two app servers on one Redis: WATCH on the account version keeps every read-modify-write whole. */
  @Test
  void twoServersWritingOneAccountLoseNoUpdate() {
    String a = account();
    try (RedisInbox other = new RedisInbox("127.0.0.1", port, 8)) {
      List<CompletableFuture<RedisInbox.IngestResult>> calls = new ArrayList<>();
      for (int k = 0; k < 200; k++) {
        RedisInbox server = k % 2 == 0 ? inbox : other;
        String sid = "s" + k % 7;
        calls.add(server.ingest(a, List.of(msg(sid, k + 1, k % 3 == 0 ? a : "bob", T0 + k))).toCompletableFuture());
      }
      int accepted = 0;
      for (CompletableFuture<RedisInbox.IngestResult> call : calls) accepted += call.join().accepted();
      Client f = fresh(a);
      assertEquals(accepted, f.version, "every accepted message took its own version");
      assertAggregates(f);
    }
  }

  // ---------------------------------------------------------------- HTTP

  @Test
  void httpRoutesAnswerInTheContractShape() {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "peer-routes",
        ConfigFactory.parseString("akka.actor.provider = local\nakka.loglevel = WARNING").withFallback(ConfigFactory.defaultReference()));
    RedisInbox dead = new RedisInbox("127.0.0.1", freePort(), 1);
    try {
      Auth auth = new Auth(TestSettings.SECRET.getBytes(StandardCharsets.UTF_8));
      RateLimiter limiter = new RateLimiter(0, 0, 100);
      Api api = bind(system, new PeerRoutes(auth, null, TestSettings.of(Limits.defaults(), 100), limiter, inbox));
      String a = account();
      String device = Api.deviceToken(a, "phone");
      String service = Api.serviceToken();

      Api.Response in = api.post("/bench/redis/v1/ingest", service, "{\"events\":[{\"type\":\"message\",\"account_ids\":[\"" + a
          + "\",\"" + a + "\"],\"session_id\":\"dm:bob\",\"seq\":4,\"sender_id\":\"bob\",\"preview\":\"hi\",\"ts\":" + T0
          + "},{\"type\":\"message\",\"account_ids\":[\"" + a + "\"],\"session_id\":\"dm:carol\",\"seq\":1,\"sender_id\":\"carol\",\"ts\":" + (T0 + 1) + "}]}");
      assertEquals(200, in.status(), in.raw().body());
      assertEquals(2, in.body().get("accepted").asInt());
      assertEquals(0, in.body().get("ignored").asInt());
      assertEquals("invalid_request", api.post("/bench/redis/v1/ingest", service,
          "{\"events\":[{\"type\":\"message\",\"account_ids\":[\"x\"],\"session_id\":\"s\",\"seq\":\"4\",\"sender_id\":\"b\",\"ts\":1}]}").errorCode());
      assertEquals(403, api.post("/bench/redis/v1/ingest", device, "{\"events\":[]}").status());

      Api.Response sync = api.post("/bench/redis/v1/sync", device, "{\"cursor\":null,\"limit\":200,\"groups\":null,\"wait_ms\":0}");
      assertEquals(200, sync.status(), sync.raw().body());
      assertEquals(List.of("cursor", "has_more", "reset", "version", "groups", "removed_groups", "sessions", "removed_sessions"),
          fieldNames(sync.body()));
      assertEquals(List.of("dm:carol", "dm:bob"), ids(sync.body().get("sessions")));
      assertEquals(fieldNames(JsonViews.session(Session.create("x", "direct", "", 0, 0))), fieldNames(sync.body().get("sessions").get(0)));
      assertEquals(2, sync.body().get("version").asLong());
      Api.Response again = api.post("/bench/redis/v1/sync", device, "{\"cursor\":\"" + sync.body().get("cursor").asText() + "\"}");
      assertEquals(0, again.body().get("sessions").size());
      assertEquals("invalid_cursor", api.post("/bench/redis/v1/sync", device, "{\"cursor\":\"nope\"}").errorCode());
      assertEquals("invalid_request", api.post("/bench/redis/v1/sync", device, "{\"groups\":[\"inbox\"]}").errorCode());
      assertEquals("invalid_request", api.post("/bench/redis/v1/sync", device, "{\"wait_ms\":10}").errorCode());
      assertEquals("invalid_request", api.post("/bench/redis/v1/sync", device, "{\"limit\":1001}").errorCode());
      assertEquals("invalid_json", api.post("/bench/redis/v1/sync", device, "{").errorCode());
      assertEquals(401, api.post("/bench/redis/v1/sync", null, "{}").status());

      Api.Response created = api.post("/bench/redis/v1/groups", device, "{\"group_id\":\"work\",\"name\":\" Work \"}");
      assertEquals(200, created.status(), created.raw().body());
      assertEquals("Work", created.body().get("group").get("name").asText());
      assertEquals(2, created.body().get("group").get("position").asInt());
      assertEquals(409, api.post("/bench/redis/v1/groups", device, "{\"group_id\":\"work\",\"name\":\"W\"}").status());
      Api.Response added = api.put("/bench/redis/v1/groups/work/sessions", device, "{\"sessions\":[\"dm:bob\",\"dm:carol\"]}");
      assertEquals(200, added.status(), added.raw().body());
      assertEquals(2, added.body().get("added").asInt());
      assertEquals(5, added.body().get("version").asLong());
      assertEquals(404, api.put("/bench/redis/v1/groups/work/sessions", device, "{\"sessions\":[\"dm:nobody\"]}").status());

      Api.Response groups = api.get("/bench/redis/v1/groups", device);
      assertEquals(List.of("inbox", "archive", "work"), texts(groups.body().get("groups"), "group_id"));
      assertEquals(5, groups.body().get("version").asLong());
      Api.Response page = api.get("/bench/redis/v1/groups/work/sessions?limit=1", device);
      assertEquals(List.of("dm:carol"), ids(page.body().get("sessions")));
      Api.Response rest = api.get("/bench/redis/v1/groups/work/sessions?limit=1&after=" + page.body().get("next").asText(), device);
      assertEquals(List.of("dm:bob"), ids(rest.body().get("sessions")));
      assertTrue(rest.body().get("next").isNull());
      assertEquals(404, api.get("/bench/redis/v1/groups/nope/sessions", device).status());
      assertEquals("invalid_request", api.get("/bench/redis/v1/groups/work/sessions?limit=0", device).errorCode());
      assertEquals("invalid_request", api.get("/bench/redis/v1/groups/Bad!/sessions", device).errorCode());

      Api down = bind(system, new PeerRoutes(auth, null, TestSettings.of(Limits.defaults(), 100), limiter, dead));
      Api.Response unavailable = down.post("/bench/redis/v1/sync", device, "{}");
      assertEquals(503, unavailable.status());
      assertEquals("unavailable", unavailable.errorCode());
      assertTrue(unavailable.raw().headers().firstValue("Retry-After").isPresent());
    } finally {
      dead.close();
      system.terminate();
    }
  }

  // ---------------------------------------------------------------- helpers

  /** A client as rule 1 describes it: maps of groups and sessions, following the cursors. */
  private static final class Client {
    final String account;
    final Map<String, JsonNode> sessions = new TreeMap<>();
    final Map<String, JsonNode> groups = new TreeMap<>();
    String cursor;
    boolean hasMore = true;
    long version;

    Client(String account) {
      this.account = account;
    }

    /** One sync; checks the batch rules every response must keep. */
    JsonNode page(int limit) {
      RedisInbox.SyncPage p = join(inbox.sync(account, cursor, limit));
      JsonNode r = parse(p.toJson());
      List<String> all = new ArrayList<>(ids(r.get("sessions")));
      all.addAll(texts(r.get("removed_sessions")));
      assertTrue(all.size() <= limit, "at most limit entries: " + all.size());
      assertEquals(all.size(), new HashSet<>(all).size(), "no session twice in one batch: " + all);
      if (r.get("reset").asBoolean()) {
        sessions.clear();
        groups.clear();
      }
      r.get("groups").forEach(g -> groups.put(g.get("group_id").asText(), g));
      r.get("removed_groups").forEach(g -> groups.remove(g.asText()));
      r.get("sessions").forEach(s -> sessions.put(s.get("session_id").asText(), s));
      r.get("removed_sessions").forEach(s -> sessions.remove(s.asText()));
      cursor = r.get("cursor").asText();
      hasMore = r.get("has_more").asBoolean();
      version = r.get("version").asLong();
      return r;
    }

    void catchUp(int limit) {
      do {
        page(limit);
      } while (hasMore);
    }
  }

  private static Client fresh(String account) {
    Client c = new Client(account);
    c.catchUp(1000);
    return c;
  }

  /** What a first sync must send first: pinned ids in group order, then sort_key desc, session_id asc. */
  private static List<String> firstSyncOrder(Client c) {
    Set<String> order = new LinkedHashSet<>();
    c.groups.values().stream()
        .sorted(Comparator.comparingInt((JsonNode g) -> g.get("position").asInt()).thenComparing(g -> g.get("group_id").asText()))
        .forEach(g -> order.addAll(texts(g.get("pinned"))));
    c.sessions.values().stream()
        .sorted(Comparator.comparingLong((JsonNode s) -> -s.get("sort_key").asLong()).thenComparing(s -> s.get("session_id").asText()))
        .forEach(s -> order.add(s.get("session_id").asText()));
    return new ArrayList<>(order);
  }

  /** Every group's aggregates equal a recount over the sessions. */
  private static void assertAggregates(Client c) {
    for (JsonNode g : c.groups.values()) {
      String gid = g.get("group_id").asText();
      int count = 0;
      int unreadSessions = 0;
      long unreadMessages = 0;
      for (JsonNode s : c.sessions.values()) {
        if (!s.get("box").asText().equals(gid) && !texts(s.get("groups")).contains(gid)) continue;
        count++;
        if (s.get("unread_count").asLong() > 0 || s.get("marked_unread").asBoolean()) unreadSessions++;
        unreadMessages += s.get("unread_count").asLong();
      }
      assertEquals(count, g.get("session_count").asInt(), gid);
      assertEquals(unreadSessions, g.get("unread_sessions").asInt(), gid);
      assertEquals(unreadMessages, g.get("unread_messages").asLong(), gid);
    }
  }

  /** The peer's sessions and groups equal imsync's, field for field but versions. */
  private static void assertSameAsImsync(AccountState model, Client peer) {
    Map<String, JsonNode> expected = new TreeMap<>();
    for (String sid : liveIds(model)) expected.put(sid, withoutVersion(JsonViews.session(model.session(sid))));
    Map<String, JsonNode> actual = new TreeMap<>();
    peer.sessions.forEach((sid, s) -> actual.put(sid, withoutVersion(s)));
    assertEquals(expected, actual);
    Map<String, JsonNode> expectedGroups = new TreeMap<>();
    model.groupsInOrder().forEach(g -> expectedGroups.put(g.groupId(), withoutVersion(JsonViews.group(g))));
    Map<String, JsonNode> actualGroups = new TreeMap<>();
    peer.groups.forEach((gid, g) -> actualGroups.put(gid, withoutVersion(g)));
    assertEquals(expectedGroups, actualGroups);
  }

  private static JsonNode withoutVersion(JsonNode n) {
    ObjectNode copy = (ObjectNode) parse(n.toString().getBytes(StandardCharsets.UTF_8)); // one number type on both sides
    copy.remove("version");
    return copy;
  }

  private static List<String> liveIds(AccountState model) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 40; i++) if (model.session("s" + i) != null) ids.add("s" + i);
    for (String extra : List.of("dm:bob", "g:team", "ch:x", "dm:eve")) if (model.session(extra) != null) ids.add(extra);
    return ids;
  }

  /** One ingest call to the peer and to imsync's state; both must accept the same number. */
  private static void both(String account, AccountState model, List<IngestItem> items) {
    AccountState.IngestDecision d = model.decideIngest(account, items);
    d.events().forEach(model::apply);
    RedisInbox.IngestResult r = join(inbox.ingest(account, items));
    assertEquals(d.events().size(), r.accepted());
    assertEquals(d.ignored(), r.ignored());
  }

  private static void apply(AccountState model, Decision d) {
    if (d instanceof Decision.Accept acc) acc.events().forEach(model::apply);
    else if (d instanceof Decision.Reject rej) fail("imsync refused: " + rej.message());
  }

  private static RedisInbox.IngestResult ingest(String account, IngestItem... items) {
    return join(inbox.ingest(account, List.of(items)));
  }

  private static IngestItem.Message msg(String sid, long seq, String sender, long ts) {
    return new IngestItem.Message(sid, "direct", "T " + sid, seq, sender, "p" + seq, ts, List.of());
  }

  private static IngestItem.Message mention(String sid, long seq, String sender, long ts, String... mentioned) {
    return new IngestItem.Message(sid, "group", "T " + sid, seq, sender, "p" + seq, ts, List.of(mentioned));
  }

  private static String account() {
    return "acct-" + ACCOUNTS.incrementAndGet();
  }

  private static <T> T join(CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  private static ErrorCode error(CompletionStage<?> stage) {
    CompletionException e = assertThrows(CompletionException.class, () -> stage.toCompletableFuture().join());
    return assertInstanceOf(PeerException.class, e.getCause()).code;
  }

  private static JsonNode parse(byte[] json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> ids(JsonNode sessions) {
    return texts(sessions, "session_id");
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static List<String> texts(JsonNode array, String field) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.get(field).asText()));
    return out;
  }

  private static List<String> fieldNames(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }

  private static Api bind(ActorSystem<?> system, PeerRoutes routes) {
    ServerBinding binding = Http.get(system).newServerAt("127.0.0.1", 0).bind(routes.route()).toCompletableFuture().join();
    return new Api("http://127.0.0.1:" + binding.localAddress().getPort());
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Polls a condition (up to 10 s): the only wait in these tests, for the server to come up. */
  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) fail("timed out waiting until " + what);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }
}
