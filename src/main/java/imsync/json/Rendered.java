package imsync.json;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import imsync.core.Group;
import imsync.core.SmartRule;
import imsync.core.Session;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The contract JSON of sessions and groups, rendered once per version and reused: a node-wide, bounded,
 * direct-mapped cache keyed by the object's identity. Sessions and groups are immutable and an account
 * keeps the same instance until it changes, so the same instance means the same JSON; a changed one is a
 * new instance and misses. Bounded by slot count and by the size of what it keeps (a large session is
 * rendered each time), so it holds the hot sessions of the node, never every session of every account.
 *
 * <p>Four-way set-associative: an object may sit in any slot of its set of four, so hot objects that hash
 * alike do not evict each other on every use (two ways, newest first, kept 76% of a working set of half the
 * slots; four with random replacement keep nearly all).
 *
 * <p>Slots: {@code -Dimsync.render-cache.slots} (a power of two; 0 turns the cache off). By default one slot
 * per 16 KiB of maximum heap, 4,096 to 262,144 (131,072 for a 4 GiB heap: at most about 100 MB, 2.5% of
 * the heap, with typical 450-byte sessions and the stale versions the slots still point to), so the
 * sessions and groups changed since the cursors of a node's active accounts fit.
 */
public final class Rendered {
  static final int SLOTS = slots();
  /** Slots an object may sit in: one set, 16 bytes of references, one cache line. */
  static final int WAYS = 4;
  /** Larger renderings are not kept: at most SLOTS x this many bytes. */
  static final int MAX_KEPT_BYTES = 1024;

  private record Entry(Object key, byte[] json) {}

  /**
   * Plain reads and writes, racy by design: an Entry is immutable (final fields, safely published), so a
   * reader sees a whole entry or an older one, and a lost update only costs a render.
   */
  private static final Entry[] CACHE = new Entry[Math.max(1, SLOTS)];

  private Rendered() {}

  private static int slots() {
    long byHeap = Math.max(4096, Math.min(262_144, Runtime.getRuntime().maxMemory() / 16_384));
    int n = Integer.getInteger("imsync.render-cache.slots", (int) byHeap);
    return n < WAYS ? 0 : Integer.highestOneBit(n);
  }

  public static byte[] session(Session s) {
    byte[] hit = lookup(s);
    return hit != null ? hit : keep(s, render(s));
  }

  public static byte[] group(Group g) {
    byte[] hit = lookup(g);
    return hit != null ? hit : keep(g, render(g));
  }

  /** The first slot of the key's set; the set is the {@code WAYS} slots from there. */
  private static int slot(Object key) {
    int h = System.identityHashCode(key);
    h ^= h >>> 16;
    return h & (SLOTS - WAYS);
  }

  private static byte[] lookup(Object key) {
    if (SLOTS < WAYS) return null;
    int base = slot(key);
    for (int i = base; i < base + WAYS; i++) {
      Entry e = CACHE[i];
      if (e != null && e.key == key) return e.json;
    }
    return null;
  }

  /**
   * Into a free slot of the set, else over a random one: accounts are synced round after round in much
   * the same order, and with that cyclic use evicting the oldest would evict exactly what comes next.
   */
  private static byte[] keep(Object key, byte[] json) {
    if (SLOTS >= WAYS && json.length <= MAX_KEPT_BYTES) {
      int base = slot(key);
      int victim = base + ThreadLocalRandom.current().nextInt(WAYS);
      for (int i = base; i < base + WAYS; i++) {
        if (CACHE[i] == null) {
          victim = i;
          break;
        }
      }
      CACHE[victim] = new Entry(key, json);
    }
    return json;
  }

  /**
   * A generator per thread, kept, writing one root value after another (no separator) into a buffer that
   * is emptied after each: creating a generator per session costs more than writing the session.
   */
  private static final class Renderer {
    final Out out = new Out();
    final JsonGenerator g;

    Renderer() {
      try {
        g = JsonOut.FACTORY.createGenerator(out, JsonEncoding.UTF8);
        g.setRootValueSeparator(null);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    byte[] take() throws IOException {
      g.flush();
      byte[] json = out.toByteArray();
      out.reset();
      return json;
    }
  }

  private static final class Out extends java.io.ByteArrayOutputStream {
    Out() {
      super(1024);
    }
  }

  private static final ThreadLocal<Renderer> RENDERERS = ThreadLocal.withInitial(Renderer::new);

  /** The contract's session object, key order as in the API document. */
  static byte[] render(Session s) {
    Renderer r = RENDERERS.get();
    try {
      writeSession(r.g, s);
      return r.take();
    } catch (IOException | RuntimeException e) {
      RENDERERS.remove(); // a generator that failed midway is not reused
      if (e instanceof IOException io) throw new UncheckedIOException(io);
      throw (RuntimeException) e;
    }
  }

  private static void writeSession(JsonGenerator g, Session s) throws IOException {
    {
      g.writeStartObject();
      g.writeStringField("session_id", s.sessionId());
      g.writeStringField("kind", s.kind());
      g.writeStringField("title", s.title());
      if (s.lastMessage() == null) {
        g.writeNullField("last_message");
      } else {
        g.writeObjectFieldStart("last_message");
        g.writeNumberField("seq", s.lastMessage().seq());
        g.writeStringField("sender_id", s.lastMessage().senderId());
        g.writeStringField("preview", s.lastMessage().preview());
        g.writeNumberField("ts", s.lastMessage().ts());
        g.writeEndObject();
      }
      g.writeNumberField("read_seq", s.readSeq());
      g.writeNumberField("unread_count", s.unreadCount());
      g.writeNumberField("mention_count", s.mentionCount());
      g.writeBooleanField("marked_unread", s.markedUnread());
      g.writeNumberField("muted_until", s.mutedUntil());
      if (s.draft() == null) {
        g.writeNullField("draft");
      } else {
        g.writeObjectFieldStart("draft");
        g.writeStringField("text", s.draft().text());
        g.writeNumberField("ts", s.draft().ts());
        g.writeEndObject();
      }
      g.writeStringField("box", s.box());
      g.writeArrayFieldStart("groups");
      for (String gid : s.groups()) g.writeString(gid);
      g.writeEndArray();
      g.writeNumberField("sort_key", s.sortKey());
      g.writeNumberField("version", s.version());
      g.writeEndObject();
    }
  }

  /** The contract's group object. */
  static byte[] render(Group gr) {
    Renderer r = RENDERERS.get();
    try {
      writeGroup(r.g, gr);
      return r.take();
    } catch (IOException | RuntimeException e) {
      RENDERERS.remove();
      if (e instanceof IOException io) throw new UncheckedIOException(io);
      throw (RuntimeException) e;
    }
  }

  private static void writeGroup(JsonGenerator g, Group gr) throws IOException {
    {
      g.writeStartObject();
      g.writeStringField("group_id", gr.groupId());
      g.writeStringField("kind", gr.kind());
      g.writeStringField("name", gr.name());
      g.writeNumberField("position", gr.position());
      g.writeArrayFieldStart("pinned");
      for (String id : gr.pinned()) g.writeString(id);
      g.writeEndArray();
      g.writeNumberField("session_count", gr.sessionCount());
      g.writeNumberField("unread_sessions", gr.unreadSessions());
      g.writeNumberField("unread_messages", gr.unreadMessages());
      if (gr.rule() != null) writeRule(g, gr.rule()); // before version, as JsonViews.group
      g.writeNumberField("version", gr.version());
      g.writeEndObject();
    }
  }

  /** A smart folder's rule as stored: absent fields stay absent (same order as SmartRules.write). */
  private static void writeRule(JsonGenerator g, SmartRule r) throws IOException {
    g.writeObjectFieldStart("rule");
    if (r.unread() != null) g.writeBooleanField("unread", r.unread());
    if (r.mentioned() != null) g.writeBooleanField("mentioned", r.mentioned());
    strings(g, "kinds", r.kinds());
    if (r.box() != null) g.writeStringField("box", r.box());
    strings(g, "in_groups", r.inGroups());
    strings(g, "not_in_groups", r.notInGroups());
    strings(g, "include", r.include());
    strings(g, "exclude", r.exclude());
    g.writeEndObject();
  }

  private static void strings(JsonGenerator g, String field, java.util.List<String> values) throws IOException {
    if (values == null) return;
    g.writeArrayFieldStart(field);
    for (String v : values) g.writeString(v);
    g.writeEndArray();
  }
}
