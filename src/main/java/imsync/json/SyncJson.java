package imsync.json;

import imsync.core.Group;
import imsync.core.Session;
import imsync.core.SizeModel;
import java.util.List;

/**
 * The sync answer ({@code POST /v1/sync}, stream frames) and the sizes of its parts. As the planner's
 * {@link SizeModel} it counts exactly the bytes {@link #write} sends for sessions, groups and ids (the same
 * renderings), so a {@code max_bytes} budget holds to the byte.
 */
public final class SyncJson implements SizeModel {
  public static final SyncJson SIZES = new SyncJson();

  /** The empty answer with an empty cursor, version 0 (one digit), has_more and reset false. */
  private static final int ENVELOPE_BASE = write("", false, false, 0, List.of(), List.of(), List.of(), List.of()).length - 1;

  private SyncJson() {}

  /** The answer, keys in the contract's order. */
  public static byte[] write(String cursor, boolean hasMore, boolean reset, long version, List<Group> groups,
                             List<String> removedGroups, List<Session> sessions, List<String> removedSessions) {
    return JsonOut.write(o -> {
      o.startObject()
          .field("cursor", cursor)
          .field("has_more", hasMore)
          .field("reset", reset)
          .field("version", version);
      o.startArray("groups");
      for (Group g : groups) o.group(g);
      o.endArray();
      o.strings("removed_groups", removedGroups);
      o.startArray("sessions");
      for (Session s : sessions) o.session(s);
      o.endArray();
      o.strings("removed_sessions", removedSessions);
      o.endObject();
    }, 256 + 64 * groups.size() + 400 * sessions.size() + 32 * removedSessions.size());
  }

  @Override
  public int sessionBytes(Session s) {
    return Rendered.session(s).length;
  }

  @Override
  public int groupBytes(Group g) {
    return Rendered.group(g).length;
  }

  @Override
  public int idBytes(String id) {
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') return JsonOut.write(o -> o.value(id), 16).length;
    }
    return id.length() + 2;
  }

  @Override
  public int envelopeBytes(long version, boolean reset, int cursorChars) {
    return ENVELOPE_BASE + cursorChars + Long.toString(version).length() - (reset ? 1 : 0);
  }
}
