package imsync.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class StoreTest {
  @TempDir
  static Path dir;
  private static int files;

  static Stream<Arguments> stores() {
    return Stream.of(
        Arguments.of("memory", (Supplier<MirrorStore>) InMemoryStore::new),
        Arguments.of("sqlite", (Supplier<MirrorStore>) () -> new SqliteStore(dir.resolve("store-" + (++files) + ".db"))));
  }

  static Session session(String id, long version, long sortKey) {
    return new Session(Json.parse("{\"session_id\":\"" + id + "\",\"version\":" + version + ",\"sort_key\":" + sortKey
        + ",\"draft\":{\"text\":\"é ✓\",\"ts\":1}}"));
  }

  static Group group(String id, long position) {
    return new Group(Json.parse("{\"group_id\":\"" + id + "\",\"kind\":\"custom\",\"name\":\"" + id + "\",\"position\":" + position
        + ",\"pinned\":[],\"version\":1}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void batchesUpsertRemoveClearAndKeepTheCursor(String name, Supplier<MirrorStore> make) {
    try (MirrorStore store = make.get()) {
      MirrorStore.Snapshot empty = store.load();
      assertNull(empty.cursor);
      assertTrue(empty.sessions.isEmpty());
      store.apply(new MirrorStore.Batch(false, List.of(session("a", 1, 10), session("b", 2, 20)), List.of(), List.of(group("work", 2)),
          List.of(), "c1", 2));
      store.apply(new MirrorStore.Batch(false, List.of(session("a", 3, 30)), List.of("b", "never-seen"), List.of(), List.of(), null, 0));
      MirrorStore.Snapshot s = store.load();
      assertEquals("c1", s.cursor, "a batch without a cursor keeps the stored one");
      assertEquals(2, s.version);
      assertEquals(List.of("a"), List.copyOf(s.sessions.keySet()));
      assertEquals(session("a", 3, 30), s.sessions.get("a"));
      assertEquals(group("work", 2), s.groups.get("work"));
      store.apply(new MirrorStore.Batch(true, List.of(session("z", 9, 1)), List.of(), List.of(), List.of(), "c2", 9));
      s = store.load();
      assertEquals(List.of("z"), List.copyOf(s.sessions.keySet()));
      assertTrue(s.groups.isEmpty());
      assertEquals("c2", s.cursor);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void theActionQueueKeepsItsOrder(String name, Supplier<MirrorStore> make) {
    try (MirrorStore store = make.get()) {
      PendingAction read = store.enqueue(PendingAction.of(PendingAction.Type.READ, "a", null, 7, null));
      PendingAction pin = store.enqueue(PendingAction.of(PendingAction.Type.PIN, "b", "work", 0, null));
      PendingAction draft = store.enqueue(PendingAction.of(PendingAction.Type.DRAFT, "a", null, 0, "hi"));
      assertTrue(read.id < pin.id && pin.id < draft.id);
      assertEquals(List.of(read, pin, draft), store.pending());
      store.remove(pin.id);
      assertEquals(List.of(read, draft), store.pending());
    }
  }

  @Test
  void sqliteKeepsEverythingAcrossReopening() {
    Path file = dir.resolve("reopen.db");
    PendingAction queued;
    try (MirrorStore store = new SqliteStore(file)) {
      store.apply(new MirrorStore.Batch(false, List.of(session("a", 1, 10)), List.of(), List.of(group("work", 3)), List.of(), "cur", 1));
      queued = store.enqueue(PendingAction.of(PendingAction.Type.BOX, "a", null, 0, "archive"));
    }
    try (MirrorStore store = new SqliteStore(file)) {
      MirrorStore.Snapshot s = store.load();
      assertEquals("cur", s.cursor);
      assertEquals(session("a", 1, 10), s.sessions.get("a"));
      assertEquals(group("work", 3), s.groups.get("work"));
      assertEquals(List.of(queued), store.pending());
      PendingAction next = store.enqueue(PendingAction.of(PendingAction.Type.UNREAD, "a", null, 0, null));
      assertTrue(next.id > queued.id, "ids keep growing after a reopen");
    }
  }
}
