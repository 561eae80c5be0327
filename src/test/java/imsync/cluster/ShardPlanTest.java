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
}
