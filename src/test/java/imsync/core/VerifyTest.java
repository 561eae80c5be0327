package imsync.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/sync/verify} in the core: the server's digests agree with the contract's formula computed
 * here independently (plain MessageDigest), only differing buckets come back, and a client that follows the
 * contract's repair rule ends up with exactly what a fresh first sync gives.
 */
class VerifyTest {

  // ------------------------------------------------ the contract's formulas, computed independently

  static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static int bucket(String sid, int n) {
    byte[] h = sha256(sid);
    long u32 = java.nio.ByteBuffer.wrap(h, 0, 4).getInt() & 0xffffffffL;
    return (int) (u32 % n);
  }

  static long contribution(String sid, long version) {
    return java.nio.ByteBuffer.wrap(sha256(sid + "\n" + version), 0, 8).getLong();
  }

  /** What a client computes from its copy. */
  static long[] clientDigests(Map<String, Session> copy, int n) {
    long[] d = new long[n];
    for (Session s : copy.values()) d[bucket(s.sessionId(), n)] ^= contribution(s.sessionId(), s.version());
    return d;
  }

  // ------------------------------------------------ the client

  static final class Copy {
    Map<String, Session> sessions = new HashMap<>();
    Map<String, Group> groups = new HashMap<>();
    Cursor cursor;
    long version;

    void syncToEnd(AccountState st, View view) {
      for (int i = 0; i < 100_000; i++) {
        SyncResult r = SyncPlanner.plan(st, view, cursor, 1000);
        if (r.reset()) {
          sessions.clear();
          groups.clear();
        }
        r.groups().forEach(g -> groups.put(g.groupId(), g));
        r.removedGroups().forEach(groups::remove);
        r.sessions().forEach(s -> sessions.put(s.sessionId(), s));
        r.removedSessions().forEach(sessions::remove);
        cursor = r.cursor();
        version = r.version();
        if (!r.hasMore()) return;
      }
      throw new AssertionError("sync never finished");
    }

    /** The contract's client rule; returns whether every bucket was checked. */
    boolean repair(AccountState st, View view, int n) {
      VerifyPlanner.Result r = VerifyPlanner.verify(st, view, clientDigests(sessions, n), 1000);
      Set<Integer> mismatched = new HashSet<>();
      for (VerifyPlanner.Bucket b : r.buckets()) mismatched.add(b.bucket());
      sessions.keySet().removeIf(id -> mismatched.contains(bucket(id, n)));
      for (VerifyPlanner.Bucket b : r.buckets()) {
        for (Session s : b.sessions()) {
          assertEquals(b.bucket(), bucket(s.sessionId(), n), "a session comes in its own bucket");
          sessions.put(s.sessionId(), s);
        }
      }
      groups.clear();
      r.groups().forEach(g -> groups.put(g.groupId(), g));
      cursor = r.cursor();
      syncToEnd(st, view);
      return r.unchecked().isEmpty();
    }
  }

  static Copy fresh(AccountState st, View view) {
    Copy c = new Copy();
    c.syncToEnd(st, view);
    return c;
  }

  // ------------------------------------------------ tests

  @Test
  void serverDigestsMatchTheContractByteForByte() {
    StateFixture f = new StateFixture();
    for (int i = 0; i < 700; i++) f.ingest(f.msg("s" + i, 1 + i % 3, "bob"));
    for (int i = 0; i < 200; i += 7) f.run(f.state.decideDeleteSession("s" + i, f.tick()));
    Copy exact = fresh(f.state, View.ALL);
    for (int n = 1; n <= 4096; n *= 2) {
      long[] expected = clientDigests(exact.sessions, n);
      long[] kept = f.state.accountDigests(n);
      if (kept != null) for (int b = 0; b < n; b++) assertEquals(expected[b], kept[b], "N=" + n + " bucket " + b);
      VerifyPlanner.Result r = VerifyPlanner.verify(f.state, View.ALL, expected, 1000);
      assertEquals(List.of(), r.buckets(), "an exact copy matches at N=" + n);
      assertEquals(List.of(), r.unchecked());
    }
    assertEquals("000000000000002a", SessionDigests.hex(42));
    assertEquals(String.format("%016x", contribution("dm:bob", 7)), SessionDigests.hex(SessionDigests.contribution("dm:bob", 7)));
  }

  @Test
  void tenThousandSessionsOneWrongOneMissingOneExtra() {
    StateFixture f = new StateFixture();
    List<IngestItem> items = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      items.add(f.msg("s" + i, 1, "bob"));
      if (items.size() == 1000) {
        f.ingest(items.toArray(IngestItem[]::new));
        items.clear();
      }
    }
    Copy copy = fresh(f.state, View.ALL);
    assertEquals(10_000, copy.sessions.size());
    Session old = copy.sessions.get("s17");
    f.ingest(f.msg("s17", 2, "bob"));
    f.ingest(f.msg("s18", 2, "bob"));
    copy.syncToEnd(f.state, View.ALL);
    copy.sessions.put("s17", old);               // wrong: an old version
    copy.sessions.remove("s4242");               // missing
    copy.sessions.put("ghost", Session.create("ghost", "direct", "", 0, 0).withVersion(3)); // extra: never existed
    int n = 256;
    Set<Integer> expected = new TreeSet<>(List.of(bucket("s17", n), bucket("s4242", n), bucket("ghost", n)));
    VerifyPlanner.Result r = VerifyPlanner.verify(f.state, View.ALL, clientDigests(copy.sessions, n), 1000);
    List<Integer> got = r.buckets().stream().map(VerifyPlanner.Bucket::bucket).toList();
    assertEquals(new ArrayList<>(expected), got, "only the corrupted buckets");
    assertTrue(got.size() <= 3);
    int sent = r.buckets().stream().mapToInt(b -> b.sessions().size()).sum();
    assertTrue(sent < 200, "a few buckets of ~40 sessions, not the account: " + sent);
    assertTrue(copy.repair(f.state, View.ALL, n));
    Copy fresh = fresh(f.state, View.ALL);
    assertEquals(SyncConvergenceProperties.contractView(fresh.sessions), SyncConvergenceProperties.contractView(copy.sessions));
    assertEquals(fresh.groups, copy.groups);
    assertEquals(List.of(), VerifyPlanner.verify(f.state, View.ALL, clientDigests(copy.sessions, n), 1000).buckets());
  }

  @Test
  void bucketsBeyondTheCountLimitAreUnchecked() {
    StateFixture f = new StateFixture();
    for (int i = 0; i < 300; i++) f.ingest(f.msg("s" + i, 1, "bob"));
    VerifyPlanner.Result r = VerifyPlanner.verify(f.state, View.ALL, new long[4], 100);
    int sent = r.buckets().stream().mapToInt(b -> b.sessions().size()).sum();
    assertTrue(sent <= 100);
    assertEquals(4, r.buckets().size() + r.unchecked().size(), "every bucket differs from an empty copy");
    assertTrue(r.unchecked().size() >= 2);
    for (VerifyPlanner.Bucket b : r.buckets()) assertTrue(!r.unchecked().contains(b.bucket()));
  }

  @Property(tries = 80)
  void randomCorruptionRepairsToAFreshFirstSync(@ForAll long seed, @ForAll @IntRange(min = 0, max = 12) int log2n,
                                                 @ForAll boolean filtered) {
    Random rnd = new Random(seed);
    StateFixture f = new StateFixture(new Limits(4, 3, 5_000, 3));
    SyncConvergenceProperties.RandomOps ops = new SyncConvergenceProperties.RandomOps(f, rnd);
    for (int i = 0; i < 80; i++) ops.step();
    View view = View.ALL;
    if (filtered) {
      List<String> ids = f.state.groupsInOrder().stream().map(Group::groupId).filter(g -> rnd.nextBoolean()).toList();
      view = new View(ids.isEmpty() ? List.of(Box.INBOX) : ids);
    }
    Copy copy = fresh(f.state, view);
    for (int i = rnd.nextInt(10); i > 0; i--) ops.step();
    if (!view.isAll() && view.groupIds().stream().anyMatch(g -> f.state.group(g) == null)) return; // a 404 view
    copy.syncToEnd(f.state, view);
    List<String> ids = new ArrayList<>(copy.sessions.keySet());
    for (int i = rnd.nextInt(6); i > 0; i--) {
      switch (rnd.nextInt(3)) {
        case 0 -> { if (!ids.isEmpty()) copy.sessions.remove(ids.get(rnd.nextInt(ids.size()))); }
        case 1 -> { if (!ids.isEmpty()) { String id = ids.get(rnd.nextInt(ids.size())); Session s = copy.sessions.get(id);
          if (s != null) copy.sessions.put(id, s.withVersion(Math.max(0, s.version() - 1 - rnd.nextInt(3)))); } }
        default -> {
          String id = "x" + rnd.nextInt(50);
          copy.sessions.put(id, Session.create(id, "direct", "", 0, 0).withVersion(rnd.nextInt(50)));
        }
      }
    }
    if (rnd.nextBoolean()) for (int i = rnd.nextInt(4); i > 0; i--) ops.step(); // the server moves on too
    if (!view.isAll() && view.groupIds().stream().anyMatch(g -> f.state.group(g) == null)) return;
    int n = 1 << log2n;
    assertTrue(copy.repair(f.state, view, n));
    Copy fresh = fresh(f.state, view);
    assertEquals(SyncConvergenceProperties.contractView(fresh.sessions), SyncConvergenceProperties.contractView(copy.sessions));
    assertEquals(fresh.groups, copy.groups);
    SyncConvergenceProperties.checkIndexes(f.state);
  }
}
