package imsync.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One change of an ordered list, by index, as a UI list adapter applies it (after matrix-rust-sdk's
 * {@code VectorDiff}). Applied in the order emitted, the changes turn the previous list into the new one
 * and no intermediate list holds an item twice.
 *
 * <ul>
 *   <li>{@code RESET}: the whole list is {@link #items} (the first change a subscriber gets);</li>
 *   <li>{@code INSERT}: {@link #item} goes in at {@link #index};</li>
 *   <li>{@code REMOVE}: the item at {@link #index} goes;</li>
 *   <li>{@code MOVE}: the item at {@link #from} is taken out and put in at {@link #index} (indexes of the list
 *       without it), replaced by {@link #item} (its new value);</li>
 *   <li>{@code UPDATE}: the item at {@link #index} is replaced by {@link #item}, in place.</li>
 * </ul>
 */
public final class ListChange<T> {
  public enum Type { RESET, INSERT, REMOVE, MOVE, UPDATE }

  public final Type type;
  public final int index;
  public final int from;
  public final T item;
  public final List<T> items;

  private ListChange(Type type, int index, int from, T item, List<T> items) {
    this.type = type;
    this.index = index;
    this.from = from;
    this.item = item;
    this.items = items;
  }

  public static <T> ListChange<T> reset(List<T> items) {
    return new ListChange<>(Type.RESET, -1, -1, null, Collections.unmodifiableList(new ArrayList<>(items)));
  }

  public static <T> ListChange<T> insert(int index, T item) {
    return new ListChange<>(Type.INSERT, index, -1, item, null);
  }

  public static <T> ListChange<T> remove(int index) {
    return new ListChange<>(Type.REMOVE, index, -1, null, null);
  }

  public static <T> ListChange<T> move(int from, int to, T item) {
    return new ListChange<>(Type.MOVE, to, from, item, null);
  }

  public static <T> ListChange<T> update(int index, T item) {
    return new ListChange<>(Type.UPDATE, index, -1, item, null);
  }

  /** Applies this change to {@code list} in place (what a UI adapter does). */
  public void applyTo(List<T> list) {
    switch (type) {
      case RESET:
        list.clear();
        list.addAll(items);
        break;
      case INSERT:
        list.add(index, item);
        break;
      case REMOVE:
        list.remove(index);
        break;
      case MOVE:
        list.remove(from);
        list.add(index, item);
        break;
      case UPDATE:
        list.set(index, item);
        break;
      default:
        throw new IllegalStateException(type.name());
    }
  }

  @Override
  public String toString() {
    switch (type) {
      case RESET: return "RESET(" + items.size() + ")";
      case MOVE: return "MOVE(" + from + "->" + index + ")";
      case REMOVE: return "REMOVE(" + index + ")";
      default: return type + "(" + index + ")";
    }
  }
}
