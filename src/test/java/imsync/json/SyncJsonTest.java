package imsync.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.core.Draft;
import imsync.core.Group;
import imsync.core.LastMessage;
import imsync.core.Session;
import imsync.core.SmartRule;
import imsync.http.JsonViews;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The streaming writer sends what Jackson writes for the tree of the same answer, byte for byte. */
class SyncJsonTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  static final String AWKWARD = "q\"b\\s/\n\t\r\b\f\u0001\u007f é 漢字 😀 end";

  static Session session(String sid, String text, boolean nulls) {
    return new Session(sid, nulls ? null : "group", text, nulls ? null : new LastMessage(42, "bob", text, 1_764_400_000_000L), 39,
        List.of(40L, 41L), true, 5, nulls ? null : new Draft(text, 1_764_400_001_000L), "archive",
        nulls ? List.of() : List.of("a", "work"), 1, 1, Map.of(), 1234, List.of());
  }

  static Group group() {
    return new Group("work", "custom", AWKWARD, 3, List.of("g:team", "dm:boss"), 40, 3, 17, 1200, null);
  }

  static Group smartGroup() {
    return new Group("unread", "smart", "Unread", 4, List.of(), 2, 2, 5, 1300,
        new SmartRule(true, null, List.of("direct", "group"), "inbox", null, List.of("work"), List.of(), List.of(AWKWARD)));
  }

  @Test
  void sessionsAndGroupsAreWhatTheTreeWrites() throws Exception {
    for (Session s : List.of(session("dm:bob", AWKWARD, false), session("x", "", true), session("y", "plain", false))) {
      assertArrayEquals(MAPPER.writeValueAsBytes(JsonViews.session(s)), Rendered.render(s));
      assertArrayEquals(MAPPER.writeValueAsBytes(JsonViews.session(s)), Rendered.session(s), "through the cache");
      assertEquals(Rendered.render(s).length, SyncJson.SIZES.sessionBytes(s));
    }
    for (Group g : List.of(group(), smartGroup())) {
      assertArrayEquals(MAPPER.writeValueAsBytes(JsonViews.group(g)), Rendered.group(g));
      assertEquals(Rendered.render(g).length, SyncJson.SIZES.groupBytes(g));
    }
  }

  @Test
  void theCacheHandsOutOneRenderingPerInstance() {
    Session s = session("dm:bob", "hi", false);
    assertSame(Rendered.session(s), Rendered.session(s));
    Session changed = s.withMarkedUnread(false);
    assertEquals(MAPPER.valueToTree(JsonViews.session(changed)).toString(), new String(Rendered.session(changed), java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void theSyncAnswerIsWhatTheTreeWritesAndItsSizeIsCountedExactly() throws Exception {
    List<Session> sessions = List.of(session("dm:bob", AWKWARD, false), session("x", "", true));
    List<Group> groups = List.of(group(), Group.system("inbox", "Inbox", 0));
    for (boolean reset : new boolean[] {false, true}) {
      ObjectNode n = MAPPER.createObjectNode();
      n.put("cursor", "AQabc-_");
      n.put("has_more", false);
      n.put("reset", reset);
      n.put("version", 98765);
      var ga = n.putArray("groups");
      groups.forEach(g -> ga.add(JsonViews.group(g)));
      n.putArray("removed_groups").add("old");
      var sa = n.putArray("sessions");
      sessions.forEach(s -> sa.add(JsonViews.session(s)));
      n.putArray("removed_sessions").add("dm:carol").add("dm:dave");
      byte[] written = SyncJson.write("AQabc-_", false, reset, 98765, groups, List.of("old"), sessions, List.of("dm:carol", "dm:dave"));
      assertArrayEquals(MAPPER.writeValueAsBytes(n), written);

      SyncJson m = SyncJson.SIZES;
      int counted = m.envelopeBytes(98765, reset, 7)
          + m.groupBytes(groups.get(0)) + 1 + m.groupBytes(groups.get(1))
          + m.idBytes("old")
          + m.sessionBytes(sessions.get(0)) + 1 + m.sessionBytes(sessions.get(1))
          + m.idBytes("dm:carol") + 1 + m.idBytes("dm:dave");
      assertEquals(written.length, counted);
    }
    assertEquals(SyncJson.write("c", false, false, 7, List.of(), List.of(), List.of(), List.of()).length,
        SyncJson.SIZES.envelopeBytes(7, false, 1));
    assertEquals(SyncJson.write("c", true, false, 7, List.of(), List.of(), List.of(), List.of()).length,
        SyncJson.SIZES.envelopeBytes(7, false, 1) - 1, "has_more true is one byte shorter");
    assertEquals(("\"" + "a\\\"b" + "\"").length(), SyncJson.SIZES.idBytes("a\"b"));
  }
}
