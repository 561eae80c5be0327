package imsync.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** One session group (inbox, archive, a custom or a smart folder) as the server sent it; immutable. */
public final class Group {
  public static final String INBOX = "inbox";
  public static final String ARCHIVE = "archive";

  private final ObjectNode json;

  public Group(JsonNode json) {
    if (!json.isObject() || !json.hasNonNull("group_id")) throw new IllegalArgumentException("not a group: " + json);
    this.json = ((ObjectNode) json).deepCopy();
  }

  public String id() {
    return json.get("group_id").asText();
  }

  /** {@code system}, {@code custom} or {@code smart}. */
  public String kind() {
    return json.path("kind").asText();
  }

  public String name() {
    return json.path("name").asText(id());
  }

  public long position() {
    return json.path("position").asLong();
  }

  public long version() {
    return json.path("version").asLong();
  }

  public List<String> pinned() {
    List<String> out = new ArrayList<>();
    for (JsonNode p : json.path("pinned")) out.add(p.asText());
    return Collections.unmodifiableList(out);
  }

  /** The smart folder's rule, or null. */
  public JsonNode rule() {
    JsonNode r = json.get("rule");
    return r == null || r.isNull() ? null : r.deepCopy();
  }

  /** The server's aggregates as of this group's version (the SDK's own badges are computed from the mirror). */
  public long serverUnreadSessions() {
    return json.path("unread_sessions").asLong();
  }

  public long serverUnreadMessages() {
    return json.path("unread_messages").asLong();
  }

  public long serverSessionCount() {
    return json.path("session_count").asLong();
  }

  /** Whether {@code s} is a member: by box for inbox/archive, by {@code groups} for custom, by rule for smart. */
  public boolean contains(Session s) {
    String id = id();
    if (INBOX.equals(id) || ARCHIVE.equals(id)) return id.equals(s.box());
    if ("smart".equals(kind())) return SmartRule.matches(json.path("rule"), s);
    return s.groups().contains(id);
  }

  public ObjectNode json() {
    return json.deepCopy();
  }

  public Group with(java.util.function.Consumer<ObjectNode> edit) {
    ObjectNode copy = json.deepCopy();
    edit.accept(copy);
    return new Group(copy);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Group && ((Group) o).json.equals(json);
  }

  @Override
  public int hashCode() {
    return json.hashCode();
  }

  @Override
  public String toString() {
    return Json.write(json);
  }
}
