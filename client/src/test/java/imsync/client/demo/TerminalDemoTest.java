package imsync.client.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import imsync.client.ClientState;
import imsync.client.Group;
import imsync.client.Json;
import imsync.client.Session;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class TerminalDemoTest {

  @Test
  void aScreenShowsTheStateTheFoldersWithBadgesAndTheRows() {
    Group inbox = new Group(Json.parse("{\"group_id\":\"inbox\",\"kind\":\"system\",\"name\":\"Inbox\",\"position\":0,\"pinned\":[\"dm:bob\"],\"version\":1}"));
    Group work = new Group(Json.parse("{\"group_id\":\"work\",\"kind\":\"custom\",\"name\":\"Work\",\"position\":2,\"pinned\":[],\"version\":1}"));
    Session bob = new Session(Json.parse("{\"session_id\":\"dm:bob\",\"title\":\"Bob\",\"kind\":\"direct\",\"box\":\"inbox\",\"groups\":[],"
        + "\"last_message\":{\"seq\":3,\"preview\":\"see you\",\"ts\":1},\"read_seq\":1,\"unread_count\":2,\"sort_key\":1,\"version\":4,"
        + "\"muted_until\":0,\"marked_unread\":false,\"draft\":null}"));
    Session carol = new Session(Json.parse("{\"session_id\":\"dm:carol\",\"title\":\"Carol\",\"kind\":\"direct\",\"box\":\"inbox\",\"groups\":[\"work\"],"
        + "\"last_message\":{\"seq\":1,\"preview\":\"hi\",\"ts\":1},\"read_seq\":1,\"unread_count\":0,\"sort_key\":1,\"version\":2,"
        + "\"muted_until\":" + (System.currentTimeMillis() + 60_000) + ",\"marked_unread\":true,\"draft\":{\"text\":\"later\",\"ts\":1}}"));
    java.util.Map<String, Session> sessions = new java.util.LinkedHashMap<>();
    sessions.put(bob.id(), bob);
    sessions.put(carol.id(), carol);
    imsync.client.Badges badges = imsync.client.Badges.compute(sessions, List.of(inbox, work));
    String screen = TerminalDemo.render("alice", new ClientState(ClientState.Kind.OFFLINE, ClientState.Transport.NONE,
        Instant.parse("2026-12-06T18:00:00Z"), "down"), 12, List.of(inbox, work), badges, 1, List.of(bob, carol), "read dm:bob");
    String[] lines = screen.split("\n");
    assertTrue(lines[0].startsWith("imsync · alice · OFFLINE retry at 2026-12-06T18:00:00Z: down · v12 · unread 2 chats / 2 messages"), lines[0]);
    assertEquals("[0] All 2  *[1] Inbox 2*  [2] Work 1", lines[1]);
    assertTrue(lines[3].matches("\\s+1 \\^   Bob\\s+\\(2\\)\\s+see you.*"), lines[3]);
    assertTrue(lines[4].matches("\\s+2  ~! Carol\\s+\\[draft\\] later.*"), lines[4]);
    assertTrue(screen.contains("read dm:bob\n> "));
  }
}
