package imsync.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShardPlanTest {
  private static final List<String> SHARDS = new ArrayList<>();

  static {
    for (int i = 0; i < 300; i++) SHARDS.add(Integer.toString(i));
  }

  private static Map<String, Integer> counts(Map<String, String> placement) {
    Map<String, Integer> c = new HashMap<>();
    placement.values().forEach(m -> c.merge(m, 1, Integer::sum));
    return c;
  }

  @Test
  void firstPlanSpreadsEvenly() {
    Map<String, String> plan = ShardPlan.balance(SHARDS, List.of("a", "b", "c"), Map.of());
    assertEquals(300, plan.size());
    assertEquals(Map.of("a", 100, "b", 100, "c", 100), counts(plan));
  }

  @Test
  void aJoiningMemberTakesItsShareAndNothingElseMoves() {
    Map<String, String> current = new HashMap<>(ShardPlan.balance(SHARDS, List.of("a", "b", "c"), Map.of()));
    Map<String, String> moves = ShardPlan.balance(SHARDS, List.of("a", "b", "c", "d"), current);
    assertEquals(75, moves.size());
    assertTrue(moves.values().stream().allMatch("d"::equals));
    current.putAll(moves);
    assertEquals(Map.of("a", 75, "b", 75, "c", 75, "d", 75), counts(current));
  }

  @Test
  void aLeavingMembersShardsAreSharedAndBalancedPlansAreLeftAlone() {
    Map<String, String> current = new HashMap<>(ShardPlan.balance(SHARDS, List.of("a", "b", "c"), Map.of()));
    Map<String, String> moves = ShardPlan.balance(SHARDS, List.of("a", "b"), current);
    assertEquals(100, moves.size());
    current.putAll(moves);
    assertEquals(Map.of("a", 150, "b", 150), counts(current));
    assertTrue(ShardPlan.balance(SHARDS, List.of("a", "b"), current).isEmpty());
    assertTrue(ShardPlan.balance(SHARDS, List.of(), current).isEmpty());
  }

  @Test
  void afterAMemberDiesItsShardsStayWhereTheyNowRunAndThePlanIsCorrected() {
    Map<String, String> stored = new HashMap<>(ShardPlan.balance(SHARDS, List.of("a", "b", "c"), Map.of()));
    // c died; the coordinator started c's shards on a and b, alternately
    Map<String, String> running = new HashMap<>();
    int k = 0;
    for (String shard : SHARDS) if (stored.get(shard).equals("c")) running.put(shard, k++ % 2 == 0 ? "a" : "b");
    List<String> up = List.of("a", "b");
    Map<String, String> homes = ShardPlan.homes(stored, running, up);
    Map<String, String> moves = ShardPlan.balance(SHARDS, up, homes);
    assertTrue(moves.isEmpty(), "no second move: " + moves);
    Map<String, String> writes = ShardPlan.writes(SHARDS, stored, homes, moves);
    assertEquals(running, writes, "exactly c's shards are stored anew, where they run");
    stored.putAll(writes);
    assertEquals(Map.of("a", 150, "b", 150), counts(stored));
  }

  @Test
  void aShardJustMovedByAnOperatorKeepsItsNewHomeAndShardsNeverStoredAreStored() {
    Map<String, String> stored = new HashMap<>(ShardPlan.balance(SHARDS, List.of("a", "b"), Map.of()));
    String moved = SHARDS.stream().filter(s -> stored.get(s).equals("a")).findFirst().orElseThrow();
    stored.put(moved, "b"); // written by the operator; the shard still runs at a until it is handed over
    String unstored = SHARDS.stream().filter(s -> stored.get(s).equals("a") && !s.equals(moved)).findFirst().orElseThrow();
    stored.remove(unstored);
    Map<String, String> running = Map.of(moved, "a", unstored, "a");
    Map<String, String> homes = ShardPlan.homes(stored, running, List.of("a", "b"));
    assertEquals("b", homes.get(moved));
    assertEquals("a", homes.get(unstored));
    Map<String, String> moves = ShardPlan.balance(SHARDS, List.of("a", "b"), homes);
    Map<String, String> writes = ShardPlan.writes(SHARDS, stored, homes, moves);
    assertEquals("a", writes.get(unstored), "a shard running where nothing was stored gets its home stored");
    assertTrue(!writes.containsKey(moved) || writes.get(moved).equals("b"), "the operator's move is not undone");
  }
}
