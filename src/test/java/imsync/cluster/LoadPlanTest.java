package imsync.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoadPlanTest {
  private static final List<String> MEMBERS = List.of("a", "b", "c");

  private static List<String> shards(int n) {
    List<String> s = new ArrayList<>();
    for (int i = 0; i < n; i++) s.add(Integer.toString(i));
    return s;
  }

  /** Shards spread by count: shard i on member i % 3. */
  private static Map<String, String> roundRobin(List<String> shards) {
    Map<String, String> at = new HashMap<>();
    for (int i = 0; i < shards.size(); i++) at.put(shards.get(i), MEMBERS.get(i % MEMBERS.size()));
    return at;
  }

  private static Map<String, Double> perMember(List<String> shards, Map<String, String> at, Map<String, Double> load) {
    Map<String, Double> m = new HashMap<>();
    for (String member : MEMBERS) m.put(member, 0.0);
    for (String s : shards) m.merge(at.get(s), load.getOrDefault(s, 0.0), Double::sum);
    return m;
  }

  private static Map<String, String> apply(Map<String, String> current, Map<String, String> moves) {
    Map<String, String> after = new HashMap<>(current);
    after.putAll(moves);
    return after;
  }

  @Test
  void hotShardsOnOneMemberAreSpreadAcrossMembers() {
    List<String> shards = shards(30);
    Map<String, String> current = roundRobin(shards);
    Map<String, Double> load = new HashMap<>();
    // member a holds shards 0, 3, 6, ...: make six of them hot
    for (int i = 0; i < 18; i += 3) load.put(Integer.toString(i), 100.0);
    for (String s : shards) load.putIfAbsent(s, 1.0);
    Map<String, Double> before = perMember(shards, current, load);
    assertEquals(604.0, before.get("a"));
    Map<String, String> moves = LoadPlan.balance(shards, MEMBERS, current, load, LoadPlan.TOLERANCE);
    Map<String, Double> after = perMember(shards, apply(current, moves), load);
    double mean = (604 + 10 + 10) / 3.0;
    for (String m : MEMBERS) assertTrue(after.get(m) <= mean * 1.1, m + " carries " + after.get(m) + " after the plan");
    assertEquals(4, moves.size(), "two hot shards to each of b and c, nothing else: " + moves);
    for (String shard : moves.keySet()) assertEquals(100.0, load.get(shard));
  }

  @Test
  void anEvenLoadMovesNothingAndIdleShardsStay() {
    List<String> shards = shards(30);
    Map<String, String> current = roundRobin(shards);
    Map<String, Double> even = new HashMap<>();
    for (String s : shards) even.put(s, 5.0);
    assertTrue(LoadPlan.balance(shards, MEMBERS, current, even, LoadPlan.TOLERANCE).isEmpty());
    assertTrue(LoadPlan.balance(shards, MEMBERS, current, Map.of(), LoadPlan.TOLERANCE).isEmpty(), "no load known: no moves");
  }

  @Test
  void shardsOfAGoneMemberGoToTheLeastLoaded() {
    List<String> shards = shards(6);
    Map<String, String> current = new HashMap<>(Map.of("0", "a", "1", "a", "2", "b", "3", "b", "4", "gone", "5", "gone"));
    Map<String, Double> load = Map.of("0", 10.0, "1", 10.0, "2", 1.0, "3", 1.0, "4", 3.0, "5", 2.0);
    Map<String, String> moves = LoadPlan.balance(shards, List.of("a", "b"), current, load, LoadPlan.TOLERANCE);
    // placed on the least loaded (b: 2, then 5), then a 10 moves a -> b (20/7 -> 10/17), then the 3 back (13/14)
    assertEquals(Map.of("4", "a", "5", "b", "0", "b"), moves);
    Map<String, String> after = new HashMap<>(current);
    after.putAll(moves);
    double a = 0;
    double b = 0;
    for (String s : shards) {
      if (after.get(s).equals("a")) a += load.get(s);
      else b += load.get(s);
    }
    assertEquals(13.0, a);
    assertEquals(14.0, b);
  }

  @Test
  void aShardHeavierThanTheGapDoesNotBounce() {
    List<String> shards = shards(2);
    Map<String, String> current = Map.of("0", "a", "1", "b");
    Map<String, Double> load = Map.of("0", 100.0, "1", 1.0);
    assertTrue(LoadPlan.balance(shards, List.of("a", "b"), current, load, LoadPlan.TOLERANCE).isEmpty(),
        "moving the only hot shard would only swap which member is busy");
  }
}
