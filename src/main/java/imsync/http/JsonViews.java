package imsync.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.core.Group;
import imsync.core.Session;
import java.util.Collection;

/** The contract's JSON shapes of sessions and groups (snake_case, nulls written out). */
public final class JsonViews {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private JsonViews() {}

  public static ObjectNode object() {
    return F.objectNode();
  }

  public static ObjectNode session(Session s) {
    ObjectNode n = F.objectNode();
    n.put("session_id", s.sessionId());
    n.put("kind", s.kind());
    n.put("title", s.title());
    if (s.lastMessage() == null) {
      n.putNull("last_message");
    } else {
      ObjectNode m = n.putObject("last_message");
      m.put("seq", s.lastMessage().seq());
      m.put("sender_id", s.lastMessage().senderId());
      m.put("preview", s.lastMessage().preview());
      m.put("ts", s.lastMessage().ts());
    }
    n.put("read_seq", s.readSeq());
    n.put("unread_count", s.unreadCount());
    n.put("mention_count", s.mentionCount());
    n.put("marked_unread", s.markedUnread());
    n.put("muted_until", s.mutedUntil());
    if (s.draft() == null) {
      n.putNull("draft");
    } else {
      ObjectNode d = n.putObject("draft");
      d.put("text", s.draft().text());
      d.put("ts", s.draft().ts());
    }
    n.put("box", s.box());
    strings(n.putArray("groups"), s.groups());
    n.put("sort_key", s.sortKey());
    n.put("version", s.version());
    return n;
  }

  public static ObjectNode group(Group g) {
    ObjectNode n = F.objectNode();
    n.put("group_id", g.groupId());
    n.put("kind", g.kind());
    n.put("name", g.name());
    n.put("position", g.position());
    strings(n.putArray("pinned"), g.pinned());
    n.put("session_count", g.sessionCount());
    n.put("unread_sessions", g.unreadSessions());
    n.put("unread_messages", g.unreadMessages());
    if (g.rule() != null) n.set("rule", SmartRules.write(g.rule())); // before version: PeerCodec reads version last
    n.put("version", g.version());
    return n;
  }

  public static ArrayNode strings(ArrayNode a, Collection<String> values) {
    for (String v : values) a.add(v);
    return a;
  }
}
