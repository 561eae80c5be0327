package imsync.bench;

import imsync.core.AccountEvent;
import imsync.core.AccountState;
import imsync.core.Cursor;
import imsync.core.Limits;
import imsync.core.SyncPlanner;
import imsync.core.SyncResult;
import imsync.core.VersionKey;
import imsync.core.View;
import java.util.Arrays;
import java.util.Random;
import org.openjdk.jol.info.GraphLayout;

/**
 * Figures for the sync planner and the account state, printed, not asserted (run: ./imsync bench).
 *
 * <p>Delta sync: an account of n sessions (each in its box, a third also in one of 4 custom groups), 10
 * sessions change, then the planner computes the delta from the caught-up cursor. Only the planning is
 * timed. First sync: a 10,000-session account, the first page (limit 200) and all pages (limit 1000).
 * Heap: JOL's deep size of the state divided by its sessions.
 */
public final class PlannerBenchmark {
  private static final int WARMUP = 3_000;
  private static final int ROUNDS = 5_000;

  public static void main(String[] args) {
    System.out.printf("imsync planner benchmark — %s, %d cores, java %s%n", System.getProperty("os.arch"),
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
    System.out.printf("%-34s %12s %12s %12s%n", "scenario", "median µs", "p99 µs", "per event µs");
    int[] sizes = {100, 10_000, 100_000};
    double[][] delta = deltaSync(sizes);
    for (int i = 0; i < sizes.length; i++) {
      System.out.printf("%-34s %12.2f %12.2f %12.2f%n", "delta sync, 10 changes, n=" + sizes[i], delta[i][0], delta[i][1], delta[i][2]);
    }
    double baseline = delta[0][0];
    double largest = delta[sizes.length - 1][0];
    double[] first = firstSync(10_000);
    System.out.printf("%-34s %12.2f %12.2f%n", "first sync page (200), n=10000", first[0], first[1]);
    System.out.printf("%-34s %12.2f %12.2f%n", "first sync all pages, n=10000", first[2], first[3]);
    for (int n : new int[] {10_000, 100_000}) {
      AccountState st = build(n, new Random(1));
      long bytes = GraphLayout.parseInstance(st).totalSize();
      System.out.printf("%-34s %12d bytes/session (state %d MiB)%n", "heap, n=" + n, bytes / n, bytes >> 20);
    }
    System.out.printf("delta-sync growth from 100 to 100000 sessions: %.2fx (median %.2f -> %.2f µs)%n", largest / baseline, baseline, largest);
  }

  static AccountState build(int n, Random rnd) {
    AccountState st = new AccountState(Limits.defaults());
    for (int g = 1; g <= 4; g++) st.apply(new AccountEvent.GroupCreated("g" + g, "G" + g, 1 + g, 0));
    for (int i = 0; i < n; i++) {
      st.apply(new AccountEvent.MessageIngested("s" + i, "direct", "Session " + i, 1, "peer" + i,
          "a preview of a typical length for a chat message", 1_700_000_000_000L + rnd.nextInt(1_000_000_000), false, false));
      if (i % 3 == 0) st.apply(new AccountEvent.MemberAdded("g" + (1 + i % 4), "s" + i, 0));
    }
    return st;
  }

  /**
   * {median µs, p99 µs, µs per applied event} of planning a 10-change delta, per size. The sizes take
   * turns within every round, so JIT state, GC and machine noise fall on all of them alike.
   */
  static double[][] deltaSync(int[] sizes) {
    Random rnd = new Random(42);
    AccountState[] states = new AccountState[sizes.length];
    for (int i = 0; i < sizes.length; i++) states[i] = build(sizes[i], rnd);
    long[][] samples = new long[sizes.length][ROUNDS];
    long[] applyNanos = new long[sizes.length];
    long seq = 2;
    long sink = 0;
    for (int r = -WARMUP; r < ROUNDS; r++) {
      for (int i = 0; i < sizes.length; i++) {
        AccountState st = states[i];
        Cursor caughtUp = Cursor.Delta.caughtUp(View.ALL.hash(), st.version());
        long a0 = System.nanoTime();
        for (int c = 0; c < 10; c++) {
          st.apply(new AccountEvent.MessageIngested("s" + rnd.nextInt(sizes[i]), "direct", null, seq++, "peer", "new message",
              1_800_000_000_000L + seq, false, rnd.nextInt(10) == 0));
        }
        long a1 = System.nanoTime();
        SyncResult res = SyncPlanner.plan(st, View.ALL, caughtUp, 200);
        long t1 = System.nanoTime();
        sink += res.sessions().size();
        if (r >= 0) {
          samples[i][r] = t1 - a1;
          applyNanos[i] += a1 - a0;
        }
      }
    }
    if (sink == 42) System.out.print("");
    double[][] out = new double[sizes.length][];
    for (int i = 0; i < sizes.length; i++) {
      Arrays.sort(samples[i]);
      out[i] = new double[] {samples[i][ROUNDS / 2] / 1e3, samples[i][ROUNDS * 99 / 100] / 1e3, applyNanos[i] / 1e3 / (ROUNDS * 10.0)};
    }
    return out;
  }

  /** {first page median, p99, all pages median, p99} in µs. */
  static double[] firstSync(int n) {
    AccountState st = build(n, new Random(7));
    int rounds = 400;
    long[] page = new long[rounds];
    long[] all = new long[rounds];
    long sink = 0;
    for (int r = -200; r < rounds; r++) {
      long t0 = System.nanoTime();
      SyncResult first = SyncPlanner.plan(st, View.ALL, null, 200);
      long t1 = System.nanoTime();
      Cursor c = null;
      int pages = 0;
      long a0 = System.nanoTime();
      do {
        SyncResult res = SyncPlanner.plan(st, View.ALL, c, 1000);
        c = res.cursor();
        sink += res.sessions().size();
        pages++;
        if (!res.hasMore()) break;
      } while (pages < 1000);
      long a1 = System.nanoTime();
      sink += first.sessions().size();
      if (r >= 0) {
        page[r] = t1 - t0;
        all[r] = a1 - a0;
      }
    }
    if (sink == 42) System.out.print("");
    Arrays.sort(page);
    Arrays.sort(all);
    return new double[] {page[rounds / 2] / 1e3, page[rounds * 99 / 100] / 1e3, all[rounds / 2] / 1e3, all[rounds * 99 / 100] / 1e3};
  }
}
