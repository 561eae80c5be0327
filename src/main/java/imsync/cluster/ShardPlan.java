package imsync.cluster;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where shards should live: every shard on an up member, counts within one of each other, and as few
 * moves as possible (a shard stays where it is unless its member is gone or holds more than its share).
 * Plain Java; {@code M} is a member's address.
 */
public final class ShardPlan {
  private ShardPlan() {}

  /** The moves to make: shard id to its new member. Members must be in a stable order (e.g. by address). */
  public static <M> Map<String, M> balance(List<String> shards, List<M> members, Map<String, M> current) {
    Map<String, M> moves = new LinkedHashMap<>();
    if (members.isEmpty()) return moves;
    int n = shards.size();
    int m = members.size();
    Map<M, Integer> target = new HashMap<>();
    for (int i = 0; i < m; i++) target.put(members.get(i), n / m + (i < n % m ? 1 : 0));
    Map<M, List<String>> held = new HashMap<>();
    for (M member : members) held.put(member, new ArrayList<>());
    Deque<String> homeless = new ArrayDeque<>();
    for (String shard : shards) {
      M at = current.get(shard);
      if (at != null && held.containsKey(at)) held.get(at).add(shard);
      else homeless.add(shard);
    }
    // members above their share give up their last shards
    for (M member : members) {
      List<String> mine = held.get(member);
      while (mine.size() > target.get(member)) homeless.add(mine.remove(mine.size() - 1));
    }
    // members below their share take them
    for (M member : members) {
      List<String> mine = held.get(member);
      while (mine.size() < target.get(member) && !homeless.isEmpty()) {
        String shard = homeless.poll();
        mine.add(shard);
        if (!member.equals(current.get(shard))) moves.put(shard, member);
      }
    }
    return moves;
  }

  /**
   * Where shards are, for planning: as stored by the last plan, except a shard whose stored member is
   * missing or no longer up counts where it runs now (after a node's removal the coordinator has started
   * its shards on the survivors; planning from the dead entries would move them a second time). A shard
   * an operator just moved keeps its stored (new) home although it still runs at the old one.
   */
  public static <M> Map<String, M> homes(Map<String, M> stored, Map<String, M> running, List<M> up) {
    Map<String, M> homes = new HashMap<>(stored);
    running.forEach((shard, at) -> {
      M was = stored.get(shard);
      if (was == null || !up.contains(was)) homes.put(shard, at);
    });
    return homes;
  }

  /**
   * The locations to store: every shard whose planned member ({@code moves}, else its home) differs from
   * the stored one, so the stored plan names a live member for every shard it can, including one that
   * stays where it runs but was stored at a dead member or nowhere.
   */
  public static <M> Map<String, M> writes(List<String> shards, Map<String, M> stored, Map<String, M> homes, Map<String, M> moves) {
    Map<String, M> writes = new LinkedHashMap<>();
    for (String shard : shards) {
      M planned = moves.getOrDefault(shard, homes.get(shard));
      if (planned != null && !planned.equals(stored.get(shard))) writes.put(shard, planned);
    }
    return writes;
  }
}
