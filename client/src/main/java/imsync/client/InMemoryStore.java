package imsync.client;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A store that forgets everything when the process ends (tests, web views, a first try of the SDK). */
public final class InMemoryStore implements MirrorStore {
  private final Map<String, Session> sessions = new LinkedHashMap<>();
  private final Map<String, Group> groups = new LinkedHashMap<>();
  private final List<PendingAction> queue = new ArrayList<>();
  private String cursor;
  private long version;
  private long nextActionId = 1;

  @Override
  public synchronized Snapshot load() {
    return new Snapshot(cursor, version, new LinkedHashMap<>(sessions), new LinkedHashMap<>(groups));
  }

  @Override
  public synchronized void apply(Batch b) {
    if (b.clear) {
      sessions.clear();
      groups.clear();
    }
    for (String id : b.removedSessions) sessions.remove(id);
    for (Session s : b.upserts) sessions.put(s.id(), s);
    for (String id : b.removedGroups) groups.remove(id);
    for (Group g : b.groupUpserts) groups.put(g.id(), g);
    if (b.cursor != null) {
      cursor = b.cursor;
      version = b.version;
    }
  }

  @Override
  public synchronized PendingAction enqueue(PendingAction action) {
    PendingAction stored = action.withId(nextActionId++);
    queue.add(stored);
    return stored;
  }

  @Override
  public synchronized List<PendingAction> pending() {
    return new ArrayList<>(queue);
  }

  @Override
  public synchronized void remove(long actionId) {
    queue.removeIf(a -> a.id == actionId);
  }

  @Override
  public void close() {}
}
