package imsync.client;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A consistent copy of the mirror: the server's sessions and groups as of {@link #version}, and the queued actions. */
public final class MirrorSnapshot {
  public final String cursor;
  public final long version;
  /** As the server last said (queued actions not applied). */
  public final Map<String, Session> sessions;
  public final Map<String, Group> groups;
  public final List<PendingAction> pending;
  public final Badges badges;
  public final ClientState state;

  MirrorSnapshot(String cursor, long version, Map<String, Session> sessions, Map<String, Group> groups, List<PendingAction> pending,
                 Badges badges, ClientState state) {
    this.cursor = cursor;
    this.version = version;
    this.sessions = Collections.unmodifiableMap(new LinkedHashMap<>(sessions));
    this.groups = Collections.unmodifiableMap(new LinkedHashMap<>(groups));
    this.pending = Collections.unmodifiableList(new ArrayList<>(pending));
    this.badges = badges;
    this.state = state;
  }

  /** The groups in display order: position, then id. */
  public List<Group> groupsInOrder() {
    return ImsyncClient.inOrder(groups);
  }

  /** The mirror as one JSON document (the demo's {@code --dump}): sessions in recency order. */
  public ObjectNode toJson() {
    ObjectNode o = Json.object();
    o.put("version", version);
    if (cursor == null) o.putNull("cursor");
    else o.put("cursor", cursor);
    o.put("state", state.toString());
    ArrayNode gs = o.putArray("groups");
    for (Group g : groupsInOrder()) {
      ObjectNode go = g.json();
      Badges.Count c = badges.groups.get(g.id());
      if (c != null) go.putObject("badge").put("unread_sessions", c.unreadSessions).put("unread_messages", c.unreadMessages);
      gs.add(go);
    }
    ObjectNode total = o.putObject("badge");
    total.put("unread_sessions", badges.total.unreadSessions).put("unread_messages", badges.total.unreadMessages);
    ArrayNode ss = o.putArray("sessions");
    for (Session s : SessionListView.order(null, sessions, groups)) ss.add(s.json());
    ArrayNode ps = o.putArray("pending_actions");
    for (PendingAction a : pending) ps.add(Json.parse(a.toJson()).deepCopy());
    return o;
  }
}
