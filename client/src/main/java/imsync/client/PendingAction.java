package imsync.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * A terminal action taken by the user, queued durably until the server accepted it. Each is idempotent
 * when sent again (read moves {@code read_seq} up only, the others set a value; a pin is sent as the
 * group's whole pinned list computed when it is sent), so a replay after a crash changes nothing twice.
 */
public final class PendingAction {
  public enum Type { READ, UNREAD, PIN, UNPIN, BOX, MUTE, DRAFT }

  /** The store's sequence number: actions replay in this order. 0 before it is stored. */
  public final long id;
  public final Type type;
  public final String sessionId;
  /** PIN/UNPIN: the group. */
  public final String groupId;
  /** READ: the seq; MUTE: muted until (epoch ms). */
  public final long number;
  /** BOX: inbox or archive; DRAFT: the text ("" clears it). */
  public final String text;
  /** When the user took it (epoch ms): the draft's local timestamp until the server's arrives. */
  public final long createdAt;

  public PendingAction(long id, Type type, String sessionId, String groupId, long number, String text, long createdAt) {
    this.id = id;
    this.type = Objects.requireNonNull(type);
    this.sessionId = Objects.requireNonNull(sessionId);
    this.groupId = groupId;
    this.number = number;
    this.text = text;
    this.createdAt = createdAt;
  }

  public static PendingAction of(Type type, String sessionId, String groupId, long number, String text) {
    return new PendingAction(0, type, sessionId, groupId, number, text, System.currentTimeMillis());
  }

  PendingAction withId(long newId) {
    return new PendingAction(newId, type, sessionId, groupId, number, text, createdAt);
  }

  public String toJson() {
    ObjectNode o = Json.object();
    o.put("type", type.name());
    o.put("session_id", sessionId);
    if (groupId != null) o.put("group_id", groupId);
    o.put("number", number);
    if (text != null) o.put("text", text);
    o.put("created_at", createdAt);
    return Json.write(o);
  }

  public static PendingAction fromJson(long id, String json) {
    JsonNode o = Json.parse(json);
    return new PendingAction(id, Type.valueOf(o.get("type").asText()), o.get("session_id").asText(),
        o.hasNonNull("group_id") ? o.get("group_id").asText() : null, o.path("number").asLong(),
        o.hasNonNull("text") ? o.get("text").asText() : null, o.path("created_at").asLong());
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof PendingAction)) return false;
    PendingAction a = (PendingAction) o;
    return id == a.id && type == a.type && sessionId.equals(a.sessionId) && Objects.equals(groupId, a.groupId)
        && number == a.number && Objects.equals(text, a.text) && createdAt == a.createdAt;
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, type, sessionId, groupId, number, text, createdAt);
  }

  @Override
  public String toString() {
    return "#" + id + " " + type + " " + sessionId + (groupId == null ? "" : " in " + groupId)
        + (type == Type.READ || type == Type.MUTE ? " " + number : "") + (text == null ? "" : " \"" + text + "\"");
  }
}
