package imsync.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One session of the list as the server sent it (an immutable JSON object, every field kept), with typed
 * getters for the fields the SDK orders, filters and counts by. Equal when the JSON is equal.
 */
public final class Session {
  private final ObjectNode json;

  public Session(JsonNode json) {
    if (!json.isObject() || !json.hasNonNull("session_id")) throw new IllegalArgumentException("not a session: " + json);
    this.json = ((ObjectNode) json).deepCopy();
  }

  public String id() {
    return json.get("session_id").asText();
  }

  public long version() {
    return json.path("version").asLong();
  }

  public long sortKey() {
    return json.path("sort_key").asLong();
  }

  public String kind() {
    return json.path("kind").asText();
  }

  public String title() {
    return json.path("title").asText("");
  }

  public long readSeq() {
    return json.path("read_seq").asLong();
  }

  /** The highest message seq seen, 0 when none. */
  public long lastSeq() {
    return json.path("last_message").path("seq").asLong(0);
  }

  public String lastPreview() {
    return json.path("last_message").path("preview").asText("");
  }

  public long unreadCount() {
    return json.path("unread_count").asLong();
  }

  public long mentionCount() {
    return json.path("mention_count").asLong();
  }

  public boolean markedUnread() {
    return json.path("marked_unread").asBoolean();
  }

  /** Unread for badges: unread messages or marked unread (as the server's {@code unread_sessions}). */
  public boolean isUnread() {
    return unreadCount() > 0 || markedUnread();
  }

  public long mutedUntil() {
    return json.path("muted_until").asLong();
  }

  public String box() {
    return json.path("box").asText("inbox");
  }

  /** The custom groups it is in, sorted by id. */
  public List<String> groups() {
    List<String> out = new ArrayList<>();
    for (JsonNode g : json.path("groups")) out.add(g.asText());
    return Collections.unmodifiableList(out);
  }

  public String draftText() {
    JsonNode d = json.path("draft");
    return d.isObject() ? d.path("text").asText("") : null;
  }

  /** A copy of the JSON (changes to it do not reach this session). */
  public ObjectNode json() {
    return json.deepCopy();
  }

  /** A new session with {@code edit} applied to a copy of the JSON. */
  public Session with(java.util.function.Consumer<ObjectNode> edit) {
    ObjectNode copy = json.deepCopy();
    edit.accept(copy);
    return new Session(copy);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Session && ((Session) o).json.equals(json);
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
