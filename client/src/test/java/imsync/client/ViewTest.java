package imsync.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Views (membership, order, pins), badges, smart rules and the local overlay of queued actions. */
class ViewTest {

  static Session s(String id, long sortKey, String box, long lastSeq, long readSeq, String... groups) {
    StringBuilder g = new StringBuilder();
    for (String x : groups) g.append(g.length() == 0 ? "" : ",").append('"').append(x).append('"');
    return new Session(Json.parse("{\"session_id\":\"" + id + "\",\"kind\":\"direct\",\"version\":1,\"sort_key\":" + sortKey
        + ",\"box\":\"" + box + "\",\"last_message\":{\"seq\":" + lastSeq + ",\"ts\":" + sortKey + "},\"read_seq\":" + readSeq
        + ",\"unread_count\":" + Math.max(0, lastSeq - readSeq) + ",\"mention_count\":0,\"marked_unread\":false,\"muted_until\":0,"
        + "\"draft\":null,\"groups\":[" + g + "]}"));
  }

  static Group g(String id, String kind, long position, String pinned, String rule) {
    return new Group(Json.parse("{\"group_id\":\"" + id + "\",\"kind\":\"" + kind + "\",\"name\":\"" + id + "\",\"position\":" + position
        + ",\"pinned\":[" + pinned + "],\"version\":1" + (rule == null ? "" : ",\"rule\":" + rule) + "}"));
  }

  static Map<String, Session> sessions(Session... list) {
    Map<String, Session> m = new LinkedHashMap<>();
    for (Session x : list) m.put(x.id(), x);
    return m;
  }

  static Map<String, Group> groups(Group... list) {
    Map<String, Group> m = new LinkedHashMap<>();
    for (Group x : list) m.put(x.id(), x);
    return m;
  }

  static List<String> ids(List<Session> list) {
    return list.stream().map(Session::id).collect(Collectors.toList());
  }

  final Map<String, Group> groups = groups(g("inbox", "system", 0, "\"c\"", null), g("archive", "system", 1, "", null),
      g("work", "custom", 2, "\"b\"", null), g("unread", "smart", 3, "", "{\"unread\":true,\"exclude\":[\"d\"]}"));
  final Map<String, Session> sessions = sessions(s("a", 400, "inbox", 3, 3), s("b", 300, "inbox", 5, 2, "work"),
      s("c", 100, "inbox", 1, 0), s("d", 500, "archive", 9, 1, "work"), s("e", 300, "inbox", 0, 0, "work"));

  @Test
  void membersAndOrderFollowTheApi() {
    assertEquals(List.of("d", "a", "b", "e", "c"), ids(SessionListView.order(null, sessions, groups)), "recency, ties by id");
    assertEquals(List.of("c", "a", "b", "e"), ids(SessionListView.order("inbox", sessions, groups)), "pinned first");
    assertEquals(List.of("d"), ids(SessionListView.order("archive", sessions, groups)));
    assertEquals(List.of("b", "d", "e"), ids(SessionListView.order("work", sessions, groups)));
    assertEquals(List.of("b", "c"), ids(SessionListView.order("unread", sessions, groups)), "smart rule, exclude wins");
    assertTrue(SessionListView.order("gone", sessions, groups).isEmpty());
  }

  @Test
  void badgesCountUnreadSessionsAndMessagesPerGroup() {
    Badges b = Badges.compute(sessions, ImsyncClient.inOrder(groups));
    assertEquals(new Badges.Count(5, 3, 3 + 1 + 8), b.total);
    assertEquals(new Badges.Count(4, 2, 4), b.groups.get("inbox"));
    assertEquals(new Badges.Count(1, 1, 8), b.groups.get("archive"));
    assertEquals(new Badges.Count(3, 2, 11), b.groups.get("work"));
    assertEquals(List.of("inbox", "archive", "work", "unread"), new ArrayList<>(b.groups.keySet()));
  }

  @Test
  void queuedActionsShowBeforeTheServerAnswers() {
    Session b = sessions.get("b");
    Session read = Overlay.apply(PendingAction.of(PendingAction.Type.READ, "b", null, 99, null), b);
    assertEquals(5, read.readSeq(), "read never goes past the last message");
    assertEquals(0, read.unreadCount());
    assertFalse(read.isUnread());
    Session partly = Overlay.apply(PendingAction.of(PendingAction.Type.READ, "b", null, 3, null), b);
    assertEquals(2, partly.unreadCount());
    assertTrue(Overlay.apply(PendingAction.of(PendingAction.Type.UNREAD, "a", null, 0, null), sessions.get("a")).isUnread());
    assertEquals("archive", Overlay.apply(PendingAction.of(PendingAction.Type.BOX, "c", null, 0, "archive"), sessions.get("c")).box());
    Session drafted = Overlay.apply(new PendingAction(0, PendingAction.Type.DRAFT, "c", null, 0, "hello", 900), sessions.get("c"));
    assertEquals("hello", drafted.draftText());
    assertEquals(900, drafted.sortKey(), "a draft raises the sort key");

    Map<String, Group> gs = new LinkedHashMap<>(groups);
    Overlay.apply(PendingAction.of(PendingAction.Type.PIN, "e", "work", 0, null), gs);
    assertEquals(List.of("e", "b"), gs.get("work").pinned());
    Overlay.apply(PendingAction.of(PendingAction.Type.UNPIN, "b", "work", 0, null), gs);
    assertEquals(List.of("e"), gs.get("work").pinned());
    Overlay.apply(PendingAction.of(PendingAction.Type.BOX, "c", null, 0, "archive"), gs);
    assertEquals(List.of(), gs.get("inbox").pinned(), "a box move drops the pin in the box it leaves");
  }

  @Test
  void aViewEmitsAResetThenChangesThatReplayToItsList() {
    SessionListView view = new SessionListView("inbox");
    view.update(sessions, groups);
    List<Session> replay = new ArrayList<>();
    List<ListChange.Type> types = new ArrayList<>();
    view.subscribe(changes -> changes.forEach(c -> {
      types.add(c.type);
      c.applyTo(replay);
    }));
    assertEquals(view.current(), replay);
    Map<String, Session> next = new LinkedHashMap<>(sessions);
    next.put("e", s("e", 9000, "inbox", 1, 0, "work"));
    next.remove("a");
    view.update(next, groups);
    assertEquals(view.current(), replay);
    assertEquals(List.of("c", "e", "b"), ids(replay));
    assertEquals(ListChange.Type.RESET, types.get(0));
    assertEquals(ListChange.Type.REMOVE, types.get(1));
    assertTrue(types.size() <= 4 && types.contains(ListChange.Type.MOVE), "one removal, one move (and the update of e): " + types);
  }
}
