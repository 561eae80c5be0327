package imsync.client;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * The changes by index that turn one ordered list of keyed items into another, few of them: items that keep
 * their relative order (a longest increasing subsequence of the common items) stay put, every other common
 * item is one {@code MOVE}, a gone one a {@code REMOVE}, a new one an {@code INSERT}, a changed one in place
 * an {@code UPDATE}. A session that rises to the top of a list of a thousand is one move, not a thousand.
 */
public final class ListDiff {
  private ListDiff() {}

  public static <T, K> List<ListChange<T>> diff(List<T> before, List<T> after, Function<T, K> key) {
    List<ListChange<T>> out = new ArrayList<>();
    Map<K, Integer> target = new HashMap<>();
    for (int i = 0; i < after.size(); i++) {
      if (target.put(key.apply(after.get(i)), i) != null) throw new IllegalArgumentException("duplicate key in the new list");
    }
    // the working list, changed as the emitted changes change a subscriber's copy
    List<T> work = new ArrayList<>(before);
    for (int i = work.size() - 1; i >= 0; i--) {
      if (!target.containsKey(key.apply(work.get(i)))) {
        work.remove(i);
        out.add(ListChange.remove(i));
      }
    }
    int[] targets = new int[work.size()];
    for (int i = 0; i < targets.length; i++) targets[i] = target.get(key.apply(work.get(i)));
    Set<K> staying = new HashSet<>();
    for (int i : longestIncreasing(targets)) staying.add(key.apply(work.get(i)));

    // moved items, in ascending target order, go right after the nearest earlier target item already in place
    Set<K> placed = new HashSet<>(staying);
    Set<K> present = new HashSet<>();
    for (T t : work) present.add(key.apply(t));
    for (int t = 0; t < after.size(); t++) {
      T item = after.get(t);
      K k = key.apply(item);
      if (!present.contains(k) || staying.contains(k)) continue;
      int from = indexOf(work, k, key);
      work.remove(from);
      int to = 0;
      for (int p = t - 1; p >= 0; p--) {
        K anchor = key.apply(after.get(p));
        if (placed.contains(anchor)) {
          to = indexOf(work, anchor, key) + 1;
          break;
        }
      }
      work.add(to, item);
      placed.add(k);
      out.add(ListChange.move(from, to, item));
    }
    // every common item is in target order now: new items go in ascending target order, changed ones in place
    for (int t = 0; t < after.size(); t++) {
      T item = after.get(t);
      K k = key.apply(item);
      if (!present.contains(k)) {
        work.add(t, item);
        out.add(ListChange.insert(t, item));
      }
    }
    for (int t = 0; t < after.size(); t++) {
      T item = after.get(t);
      if (!Objects.equals(work.get(t), item)) {
        work.set(t, item);
        out.add(ListChange.update(t, item));
      }
    }
    return out;
  }

  private static <T, K> int indexOf(List<T> list, K k, Function<T, K> key) {
    for (int i = 0; i < list.size(); i++) if (key.apply(list.get(i)).equals(k)) return i;
    throw new IllegalStateException("not in the list: " + k);
  }

  /** Indexes of one longest strictly increasing subsequence of {@code a} (patience sorting, O(n log n)). */
  static int[] longestIncreasing(int[] a) {
    int n = a.length;
    int[] tailIndex = new int[n];
    int[] prev = new int[n];
    int length = 0;
    for (int i = 0; i < n; i++) {
      int lo = 0;
      int hi = length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (a[tailIndex[mid]] < a[i]) lo = mid + 1;
        else hi = mid;
      }
      prev[i] = lo > 0 ? tailIndex[lo - 1] : -1;
      tailIndex[lo] = i;
      if (lo == length) length++;
    }
    int[] out = new int[length];
    int k = length > 0 ? tailIndex[length - 1] : -1;
    for (int i = length - 1; i >= 0; i--) {
      out[i] = k;
      k = prev[k];
    }
    return out;
  }
}
