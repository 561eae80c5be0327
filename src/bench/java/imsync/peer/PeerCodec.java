package imsync.peer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import imsync.core.Group;
import imsync.core.Session;
import imsync.http.Json;
import imsync.http.JsonViews;
import java.util.ArrayList;
import java.util.List;

/** What the peer stores in Redis: sessions as imsync.core.Session JSON, and both objects in their contract JSON. */
final class PeerCodec {
  /**
   * For the stored {@code d} field. Session has derived {@code isUnread()}; without is-getter detection only
   * the record's components are written, so the value reads back into the same record.
   */
  private static final ObjectMapper STATE = JsonMapper.builder()
      .disable(MapperFeature.AUTO_DETECT_IS_GETTERS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();

  private PeerCodec() {}

  static String state(Session s) {
    try {
      return STATE.writeValueAsString(s);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static Session session(String stateJson) {
    try {
      return STATE.readValue(stateJson, Session.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored session does not decode", e);
    }
  }

  /** The contract JSON of a session, rendered once at write time so sync only copies it. */
  static String render(Session s) {
    return write(JsonViews.session(s));
  }

  static String render(Group g) {
    return write(JsonViews.group(g));
  }

  static Group group(String json) {
    try {
      JsonNode n = Json.MAPPER.readTree(json);
      List<String> pinned = new ArrayList<>();
      n.get("pinned").forEach(p -> pinned.add(p.asText()));
      return new Group(n.get("group_id").asText(), n.get("kind").asText(), n.get("name").asText(), n.get("position").asInt(),
          pinned, n.get("session_count").asInt(), n.get("unread_sessions").asInt(), n.get("unread_messages").asLong(),
          n.get("version").asLong(), null);
    } catch (JsonProcessingException | RuntimeException e) {
      throw new IllegalStateException("stored group does not decode", e);
    }
  }

  /** A stored group's version without parsing it: JsonViews.group writes {@code version} last. */
  static long groupVersion(String json) {
    int at = json.lastIndexOf("\"version\":");
    if (at < 0) return group(json).version();
    int from = at + "\"version\":".length();
    int to = from;
    while (to < json.length() && (Character.isDigit(json.charAt(to)) || json.charAt(to) == '-')) to++;
    return Long.parseLong(json.substring(from, to));
  }

  private static String write(JsonNode n) {
    try {
      return Json.MAPPER.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
