package imsync.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** One answer of {@code POST /v1/sync} or one stream frame. */
public final class SyncPage {
  public final String cursor;
  public final boolean hasMore;
  public final boolean reset;
  public final long version;
  public final List<Group> groups;
  public final List<String> removedGroups;
  public final List<Session> sessions;
  public final List<String> removedSessions;

  public SyncPage(String cursor, boolean hasMore, boolean reset, long version, List<Group> groups, List<String> removedGroups,
                  List<Session> sessions, List<String> removedSessions) {
    this.cursor = cursor;
    this.hasMore = hasMore;
    this.reset = reset;
    this.version = version;
    this.groups = Collections.unmodifiableList(new ArrayList<>(groups));
    this.removedGroups = Collections.unmodifiableList(new ArrayList<>(removedGroups));
    this.sessions = Collections.unmodifiableList(new ArrayList<>(sessions));
    this.removedSessions = Collections.unmodifiableList(new ArrayList<>(removedSessions));
  }

  public static SyncPage parse(JsonNode body) {
    if (!body.hasNonNull("cursor")) throw new IllegalArgumentException("a sync answer without a cursor: " + Json.abbreviate(body.toString()));
    List<Group> groups = new ArrayList<>();
    for (JsonNode g : body.path("groups")) groups.add(new Group(g));
    List<Session> sessions = new ArrayList<>();
    for (JsonNode s : body.path("sessions")) sessions.add(new Session(s));
    return new SyncPage(body.get("cursor").asText(), body.path("has_more").asBoolean(), body.path("reset").asBoolean(),
        body.path("version").asLong(), groups, texts(body.path("removed_groups")), sessions, texts(body.path("removed_sessions")));
  }

  static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    for (JsonNode n : array) out.add(n.asText());
    return out;
  }
}
