package imsync.client;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Where the mirror lives between runs: the sessions, the groups, the cursor they are as of, and the queue of
 * actions not yet accepted by the server. Every {@link #apply} is atomic: after a crash the store holds the
 * state before or after it, never a mix, so the stored cursor always matches the stored list.
 */
public interface MirrorStore extends AutoCloseable {

  /** What the store holds. */
  final class Snapshot {
    public final String cursor;
    public final long version;
    public final Map<String, Session> sessions;
    public final Map<String, Group> groups;

    public Snapshot(String cursor, long version, Map<String, Session> sessions, Map<String, Group> groups) {
      this.cursor = cursor;
      this.version = version;
      this.sessions = Collections.unmodifiableMap(sessions);
      this.groups = Collections.unmodifiableMap(groups);
    }
  }

  /** One atomic change. {@code cursor} null: the cursor stays. {@code clear}: everything goes first. */
  final class Batch {
    public final boolean clear;
    public final Collection<Session> upserts;
    public final Collection<String> removedSessions;
    public final Collection<Group> groupUpserts;
    public final Collection<String> removedGroups;
    public final String cursor;
    public final long version;

    public Batch(boolean clear, Collection<Session> upserts, Collection<String> removedSessions, Collection<Group> groupUpserts,
                 Collection<String> removedGroups, String cursor, long version) {
      this.clear = clear;
      this.upserts = new ArrayList<>(upserts);
      this.removedSessions = new ArrayList<>(removedSessions);
      this.groupUpserts = new ArrayList<>(groupUpserts);
      this.removedGroups = new ArrayList<>(removedGroups);
      this.cursor = cursor;
      this.version = version;
    }
  }

  Snapshot load();

  void apply(Batch batch);

  /** Appends an action to the durable queue; returns it with its id. */
  PendingAction enqueue(PendingAction action);

  /** The queue, oldest first. */
  List<PendingAction> pending();

  /** Drops an action the server has answered. */
  void remove(long actionId);

  @Override
  void close();
}
