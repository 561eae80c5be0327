package imsync.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where shards should live to even out load (requests plus ingest deliveries per second, per shard) instead of
 * shard counts. Plain Java; {@code M} is a member's address, members in a stable order (e.g. by address).
 *
 * <p>Shards not on an up member go first, heaviest first, each to the least loaded member. Then, while the
 * busiest member is more than {@code tolerance} above the mean, the shard of the busiest member that best
 * halves its gap to the least loaded member moves there (only a shard lighter than the gap, so every move
 * strictly lowers the spread: the loop ends). Idle shards never move, except homeless ones.
 */
public final class LoadPlan {
  private LoadPlan() {}

  /** Default tolerance: the busiest member may be 10% above the mean before shards move. */
  public static final double TOLERANCE = 0.10;

  public static <M> Map<String, M> balance(List<String> shards, List<M> members, Map<String, M> current,
                                           Map<String, Double> load, double tolerance) {
    Map<String, M> moves = new LinkedHashMap<>();
    if (members.isEmpty()) return moves;
    Map<M, Double> memberLoad = new HashMap<>();
    Map<M, List<String>> held = new HashMap<>();
    for (M m : members) {
      memberLoad.put(m, 0.0);
      held.put(m, new ArrayList<>());
    }
    List<String> homeless = new ArrayList<>();
    for (String shard : shards) {
      M at = current.get(shard);
      if (at != null && held.containsKey(at)) {
        held.get(at).add(shard);
        memberLoad.merge(at, loadOf(load, shard), Double::sum);
      } else {
        homeless.add(shard);
      }
    }
    Map<String, M> placed = new HashMap<>();
    homeless.sort(Comparator.comparingDouble((String s) -> -loadOf(load, s)).thenComparing(s -> s));
    for (String shard : homeless) {
      M to = members.get(0);
      for (M m : members) {
        int cmp = Double.compare(memberLoad.get(m), memberLoad.get(to));
        if (cmp < 0 || (cmp == 0 && held.get(m).size() < held.get(to).size())) to = m;
      }
      held.get(to).add(shard);
      memberLoad.merge(to, loadOf(load, shard), Double::sum);
      placed.put(shard, to);
    }
    double total = 0;
    for (double l : memberLoad.values()) total += l;
    double ceiling = total / members.size() * (1 + tolerance);
    for (int step = 0; step < shards.size(); step++) {
      M busiest = members.get(0);
      M idlest = members.get(0);
      for (M m : members) {
        if (memberLoad.get(m) > memberLoad.get(busiest)) busiest = m;
        if (memberLoad.get(m) < memberLoad.get(idlest)) idlest = m;
      }
      if (memberLoad.get(busiest) <= ceiling) break;
      double gap = memberLoad.get(busiest) - memberLoad.get(idlest);
      String best = null;
      double bestDistance = Double.MAX_VALUE;
      for (String shard : held.get(busiest)) {
        double l = loadOf(load, shard);
        if (l <= 0 || l >= gap) continue;
        double distance = Math.abs(gap / 2 - l);
        if (distance < bestDistance || (distance == bestDistance && shard.compareTo(best) < 0)) {
          best = shard;
          bestDistance = distance;
        }
      }
      if (best == null) break;
      double l = loadOf(load, best);
      held.get(busiest).remove(best);
      held.get(idlest).add(best);
      memberLoad.merge(busiest, -l, Double::sum);
      memberLoad.merge(idlest, l, Double::sum);
      placed.put(best, idlest);
    }
    for (String shard : shards) {
      M to = placed.get(shard);
      if (to != null && !to.equals(current.get(shard))) moves.put(shard, to);
    }
    return moves;
  }

  private static double loadOf(Map<String, Double> load, String shard) {
    Double l = load.get(shard);
    return l == null || l.isNaN() || l < 0 ? 0 : l;
  }
}
