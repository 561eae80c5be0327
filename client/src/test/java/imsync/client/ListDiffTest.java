package imsync.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ListDiffTest {

  /** An item: a key and a value (a changed value with the same key is an update). */
  static final class Item {
    final String key;
    final int value;

    Item(String key, int value) {
      this.key = key;
      this.value = value;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Item && ((Item) o).key.equals(key) && ((Item) o).value == value;
    }

    @Override
    public int hashCode() {
      return key.hashCode() * 31 + value;
    }

    @Override
    public String toString() {
      return key + "=" + value;
    }
  }

  static List<Item> items(String... keys) {
    List<Item> out = new ArrayList<>();
    for (String k : keys) out.add(new Item(k, 0));
    return out;
  }

  static List<ListChange<Item>> diffAndCheck(List<Item> before, List<Item> after) {
    List<ListChange<Item>> changes = ListDiff.diff(before, after, i -> i.key);
    List<Item> replay = new ArrayList<>(before);
    for (ListChange<Item> c : changes) {
      c.applyTo(replay);
      HashSet<String> keys = new HashSet<>();
      for (Item i : replay) assertTrue(keys.add(i.key), "a duplicate after " + c + ": " + replay);
    }
    assertEquals(after, replay, "changes " + changes);
    return changes;
  }

  @Test
  void aSessionRisingToTheTopIsOneMove() {
    List<Item> before = items("a", "b", "c", "d", "e");
    List<Item> after = items("e", "a", "b", "c", "d");
    after.set(0, new Item("e", 1));
    List<ListChange<Item>> changes = diffAndCheck(before, after);
    assertEquals(1, changes.size(), changes.toString());
    assertEquals(ListChange.Type.MOVE, changes.get(0).type);
    assertEquals(4, changes.get(0).from);
    assertEquals(0, changes.get(0).index);
  }

  @Test
  void aSessionSinkingIsOneMoveNotAShiftOfTheOthers() {
    List<ListChange<Item>> changes = diffAndCheck(items("a", "b", "c", "d", "e"), items("b", "c", "d", "a", "e"));
    assertEquals(1, changes.size(), changes.toString());
    assertEquals(ListChange.Type.MOVE, changes.get(0).type);
  }

  @Test
  void insertRemoveAndUpdateByIndex() {
    List<Item> after = items("a", "x", "c");
    after.set(2, new Item("c", 5));
    List<ListChange<Item>> changes = diffAndCheck(items("a", "b", "c"), after);
    assertEquals(Arrays.asList(ListChange.Type.REMOVE, ListChange.Type.INSERT, ListChange.Type.UPDATE),
        Arrays.asList(changes.get(0).type, changes.get(1).type, changes.get(2).type));
    assertEquals(1, changes.get(0).index);
    assertEquals(1, changes.get(1).index);
    assertEquals(2, changes.get(2).index);
  }

  @Test
  void equalListsGiveNoChange() {
    assertTrue(ListDiff.diff(items("a", "b"), items("a", "b"), i -> i.key).isEmpty());
    assertTrue(ListDiff.diff(items(), items(), i -> i.key).isEmpty());
  }

  @Test
  void randomListsReplayToTheTargetWithoutDuplicatesAndMoveOnlyWhatLeftItsOrder() {
    Random random = new Random(20261206);
    for (int round = 0; round < 3000; round++) {
      List<String> pool = new ArrayList<>();
      for (int i = 0; i < 12; i++) pool.add("s" + i);
      Collections.shuffle(pool, random);
      List<Item> before = new ArrayList<>();
      for (String k : pool.subList(0, random.nextInt(10))) before.add(new Item(k, random.nextInt(2)));
      Collections.shuffle(pool, random);
      List<Item> after = new ArrayList<>();
      for (String k : pool.subList(0, random.nextInt(10))) after.add(new Item(k, random.nextInt(2)));
      List<ListChange<Item>> changes = diffAndCheck(before, after);
      long moves = changes.stream().filter(c -> c.type == ListChange.Type.MOVE).count();
      long common = after.stream().filter(a -> before.stream().anyMatch(b -> b.key.equals(a.key))).count();
      assertTrue(moves <= Math.max(0, common - 1), "more moves than needed: " + changes);
    }
  }

  @Test
  void longestIncreasingSubsequence() {
    int[] lis = ListDiff.longestIncreasing(new int[] {3, 0, 4, 1, 2, 5});
    assertEquals(4, lis.length);
    assertEquals(Arrays.toString(new int[] {1, 3, 4, 5}), Arrays.toString(lis));
  }
}
