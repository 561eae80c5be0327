package imsync.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One list on screen: the whole account (recency order) or one group (its pinned sessions in pinned order,
 * then recency: sort_key descending, ties by session id), with the queued actions applied. Subscribers get
 * a {@code RESET} with the current list, then the {@link ListChange}s of every update, on the client's
 * thread, in order.
 */
public final class SessionListView {
  /** Receives a view's changes. */
  public interface Listener {
    void onChanges(List<ListChange<Session>> changes);
  }

  private final String groupId;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private List<Session> current = Collections.emptyList();

  SessionListView(String groupId) {
    this.groupId = groupId;
  }

  /** The group shown, or null for the whole account. */
  public String groupId() {
    return groupId;
  }

  public synchronized List<Session> current() {
    return current;
  }

  /** Adds a listener and hands it the current list as a {@code RESET}. */
  public synchronized void subscribe(Listener listener) {
    listeners.add(listener);
    listener.onChanges(Collections.singletonList(ListChange.reset(current)));
  }

  public void unsubscribe(Listener listener) {
    listeners.remove(listener);
  }

  synchronized void update(Map<String, Session> sessions, Map<String, Group> groups) {
    List<Session> next = order(groupId, sessions, groups);
    List<ListChange<Session>> changes = ListDiff.diff(current, next, Session::id);
    current = Collections.unmodifiableList(next);
    if (changes.isEmpty()) return;
    for (Listener l : listeners) l.onChanges(Collections.unmodifiableList(changes));
  }

  /** The members of a view in display order (null group: every session). */
  public static List<Session> order(String groupId, Map<String, Session> sessions, Map<String, Group> groups) {
    Group g = groupId == null ? null : groups.get(groupId);
    List<Session> out = new ArrayList<>();
    if (groupId != null && g == null) return out;
    for (Session s : sessions.values()) if (g == null || g.contains(s)) out.add(s);
    List<String> pinned = g == null ? Collections.emptyList() : g.pinned();
    Comparator<Session> byPin = Comparator.comparingInt(s -> {
      int i = pinned.indexOf(s.id());
      return i < 0 ? Integer.MAX_VALUE : i;
    });
    out.sort(byPin.thenComparing(Comparator.comparingLong(Session::sortKey).reversed()).thenComparing(Session::id));
    return out;
  }
}
