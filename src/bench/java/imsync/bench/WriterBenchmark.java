package imsync.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.core.Cursor;
import imsync.core.CursorCodec;
import imsync.core.Group;
import imsync.core.LastMessage;
import imsync.core.Session;
import imsync.core.SortEntry;
import imsync.http.Json;
import imsync.http.JsonViews;
import imsync.http.SyncRoutes;
import imsync.json.SyncJson;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The hot path's CPU pieces, old way against new, in one JVM with alternating rounds (medians of 9 rounds
 * after 3 warm-up rounds; not a JMH run, so read the ratios, not the absolute figures, on a busy machine):
 * a delta answer (10 sessions, 5 groups) and a first-sync page (1,000 sessions) written through a Jackson
 * tree vs the streaming writer (sessions rendered anew, and from the render cache); the sync request
 * parsed to a tree vs streamed; the cursor MAC with a new Mac per cursor vs one per thread.
 * Run: {@code java -cp target/classes:target/test-classes:<deps> imsync.bench.WriterBenchmark}.
 */
public final class WriterBenchmark {
  static int sink;
  static final ThreadLocal<Mac> MACS = ThreadLocal.withInitial(() -> {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec("secret-of-thirty-two-bytes-long!".getBytes(), "HmacSHA256"));
      return mac;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  });

  public static void main(String[] args) throws Exception {
    List<Group> groups = new ArrayList<>();
    groups.add(Group.system("inbox", "Inbox", 0).withAggregates(200, 10, 10, 5000));
    groups.add(Group.system("archive", "Archive", 1));
    for (int k = 0; k < 3; k++) groups.add(Group.custom("f" + k, "Folder " + k, 2 + k, 4000).withAggregates(70, 4, 4, 5001));
    List<Session> delta = sessions(10);
    List<Session> page = sessions(1000);
    String cursor = "AgAAAAEC-dGFzIjoxNzY0NDAwMDAwMDAwLCJzZXNzaW9uIjoiYzo5In0abc";

    bench("delta answer (10 sessions, 5 groups)", 20_000,
        () -> tree(cursor, groups, delta).length,
        () -> SyncJson.write(cursor, false, false, 5001, groups, List.of(), fresh(delta), List.of()).length,
        () -> SyncJson.write(cursor, false, false, 5001, groups, List.of(), delta, List.of()).length);
    bench("first-sync page (1000 sessions)", 200,
        () -> tree(cursor, groups, page).length,
        () -> SyncJson.write(cursor, true, false, 5001, groups, List.of(), fresh(page), List.of()).length,
        () -> SyncJson.write(cursor, true, false, 5001, groups, List.of(), page, List.of()).length);
    byte[] request = ("{\"cursor\":\"" + cursor + "\",\"limit\":200}").getBytes(StandardCharsets.UTF_8);
    bench("sync request parse", 100_000,
        () -> SyncRoutes.SyncRequest.parse(Json.object(new String(request, StandardCharsets.UTF_8), true)).limit(),
        () -> SyncRoutes.SyncRequest.parse(request).limit(),
        null);
    SecretKeySpec key = new SecretKeySpec("secret-of-thirty-two-bytes-long!".getBytes(), "HmacSHA256");
    CursorCodec codec = new CursorCodec("secret-of-thirty-two-bytes-long!".getBytes());
    Cursor c = new Cursor.First(12345, 5001, 5001, Cursor.PINNED_DONE, new SortEntry(1_764_400_000_000L, "c:42"));
    bench("cursor encode (MAC)", 100_000,
        () -> {
          try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            mac.update("h42".getBytes(StandardCharsets.UTF_8));
            mac.update(request, 0, 40);
            return mac.doFinal().length;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        () -> {
          Mac mac = MACS.get();
          mac.update("h42".getBytes(StandardCharsets.UTF_8));
          mac.update(request, 0, 40);
          return mac.doFinal().length;
        },
        null);
    bench("cursor encode, whole (new codec)", 100_000, () -> codec.encode("h42", c).length(), () -> codec.encode("h42", c).length(), null);
  }

  static List<Session> sessions(int n) {
    List<Session> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Session("c:" + i, "group", "Session c:" + i, new LastMessage(2, "u", "a preview of a typical length for a chat message",
          1_764_500_000_000L + i), 1, List.of(), false, 0, null, "inbox", List.of("f" + i % 3), 1_764_400_000_000L, 1_764_400_000_000L,
          Map.of(), 5000 + i, List.of()));
    }
    return out;
  }

  /** New instances of the same sessions: the render cache misses, as for sessions that just changed. */
  static List<Session> fresh(List<Session> in) {
    List<Session> out = new ArrayList<>(in.size());
    for (Session s : in) out.add(s.withVersion(s.version()));
    return out;
  }

  static byte[] tree(String cursor, List<Group> groups, List<Session> sessions) {
    ObjectNode n = JsonViews.object();
    n.put("cursor", cursor);
    n.put("has_more", false);
    n.put("reset", false);
    n.put("version", 5001);
    var ga = n.putArray("groups");
    for (Group g : groups) ga.add(JsonViews.group(g));
    n.putArray("removed_groups");
    var sa = n.putArray("sessions");
    for (Session s : sessions) sa.add(JsonViews.session(s));
    n.putArray("removed_sessions");
    try {
      return Json.MAPPER.writeValueAsBytes(n);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Median µs per op of each variant over alternating rounds. */
  static void bench(String name, int ops, IntSupplier old, IntSupplier neu, IntSupplier cached) {
    IntSupplier[] variants = cached == null ? new IntSupplier[] {old, neu} : new IntSupplier[] {old, neu, cached};
    double[][] t = new double[variants.length][9];
    for (int round = 0; round < 12; round++) {
      for (int v = 0; v < variants.length; v++) {
        long start = System.nanoTime();
        for (int i = 0; i < ops; i++) sink += variants[v].getAsInt();
        double us = (System.nanoTime() - start) / 1e3 / ops;
        if (round >= 3) t[v][round - 3] = us;
      }
    }
    StringBuilder line = new StringBuilder(String.format("%-38s", name));
    String[] labels = {"old", "new", "new, cached"};
    double base = median(t[0]);
    for (int v = 0; v < variants.length; v++) {
      double m = median(t[v]);
      line.append(String.format("  %s %.2f µs (%.2fx)", labels[v], m, base / m));
    }
    System.out.println(line);
  }

  static double median(double[] xs) {
    double[] c = xs.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }
}
