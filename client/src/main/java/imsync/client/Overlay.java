package imsync.client;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A queued action applied locally, as the server will apply it (API.md, terminal actions), so the list and
 * badges show it before the server answers. The server's answer replaces the guess.
 */
final class Overlay {
  private Overlay() {}

  static Session apply(PendingAction a, Session s) {
    switch (a.type) {
      case READ:
        return s.with(o -> {
          long read = Math.max(s.readSeq(), Math.min(a.number, s.lastSeq()));
          o.put("read_seq", read);
          o.put("unread_count", Math.max(0, s.lastSeq() - read));
          o.put("marked_unread", false);
          if (read >= s.lastSeq()) o.put("mention_count", 0);
        });
      case UNREAD:
        return s.with(o -> o.put("marked_unread", true));
      case MUTE:
        return s.with(o -> o.put("muted_until", a.number));
      case BOX:
        return s.with(o -> o.put("box", a.text));
      case DRAFT:
        return s.with(o -> {
          if (a.text.isEmpty()) {
            o.putNull("draft");
          } else {
            o.putObject("draft").put("text", a.text).put("ts", a.createdAt);
            o.put("sort_key", Math.max(s.sortKey(), a.createdAt));
          }
        });
      default:
        return s;
    }
  }

  /** Pins change a group; a box move drops the session's pin in the box it leaves. */
  static void apply(PendingAction a, Map<String, Group> groups) {
    if (a.type == PendingAction.Type.BOX) {
      for (String box : new String[] {Group.INBOX, Group.ARCHIVE}) {
        Group g = groups.get(box);
        if (g != null && !box.equals(a.text) && g.pinned().contains(a.sessionId)) groups.put(box, withPinned(g, without(g.pinned(), a.sessionId)));
      }
      return;
    }
    if (a.type != PendingAction.Type.PIN && a.type != PendingAction.Type.UNPIN) return;
    Group g = groups.get(a.groupId);
    if (g == null) return;
    List<String> pinned = without(g.pinned(), a.sessionId);
    if (a.type == PendingAction.Type.PIN) pinned.add(0, a.sessionId);
    groups.put(g.id(), withPinned(g, pinned));
  }

  private static List<String> without(List<String> list, String id) {
    List<String> out = new ArrayList<>(list);
    out.remove(id);
    return out;
  }

  private static Group withPinned(Group g, List<String> pinned) {
    return g.with((ObjectNode o) -> {
      ArrayNode p = o.putArray("pinned");
      pinned.forEach(p::add);
    });
  }
}
