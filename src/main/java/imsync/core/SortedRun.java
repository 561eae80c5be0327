package imsync.core;

import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.SortedSet;

/**
 * Distinct elements already in natural order, seen as a {@link SortedSet} only so that
 * {@code TreeSet.addAll} into an empty set builds the tree in one linear pass instead of n inserts of
 * O(log n) each: what rebuilding a 100,000-session state from a snapshot spends most of its time on.
 * Only iteration and size are supported.
 */
final class SortedRun<E extends Comparable<? super E>> extends AbstractSet<E> implements SortedSet<E> {
  private final E[] items;
  private final int size;

  /** Sorts {@code items[0, size)} in place; they must be distinct. */
  SortedRun(E[] items, int size) {
    Arrays.sort(items, 0, size);
    this.items = items;
    this.size = size;
  }

  @Override
  public Iterator<E> iterator() {
    return new Iterator<>() {
      int i;

      @Override
      public boolean hasNext() {
        return i < size;
      }

      @Override
      public E next() {
        if (i >= size) throw new java.util.NoSuchElementException();
        return items[i++];
      }
    };
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public Comparator<? super E> comparator() {
    return null;
  }

  @Override
  public SortedSet<E> subSet(E from, E to) {
    throw new UnsupportedOperationException();
  }

  @Override
  public SortedSet<E> headSet(E to) {
    throw new UnsupportedOperationException();
  }

  @Override
  public SortedSet<E> tailSet(E from) {
    throw new UnsupportedOperationException();
  }

  @Override
  public E first() {
    throw new UnsupportedOperationException();
  }

  @Override
  public E last() {
    throw new UnsupportedOperationException();
  }
}
