package imsync.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import imsync.core.Box;
import imsync.core.ErrorCode;
import imsync.core.Group;
import imsync.core.IngestItem;
import imsync.core.Limits;
import imsync.core.Session;
import imsync.core.SyncPlanner;
import imsync.http.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.resps.Tuple;

/**
 * The benchmarks' "industry-standard" peer of imsync: a stateless app server over Redis with imsync's sync
 * semantics (whole-account view). Keys are described in {@link PeerKeys}; the change rules live in
 * {@link AccountWrite}.
 *
 * <p>Every Redis call runs on the peer's own executor (Jedis blocks), and every method answers a
 * CompletionStage. A failed stage carries a {@link PeerException} for a contract error, anything else
 * (a {@code JedisException}) means Redis trouble: the HTTP layer answers 503.
 *
 * <p>Writes: an account's writes are serialized by a striped lock in this process, and guarded by
 * WATCH on the account's version key across processes (several app servers may share one Redis): state is
 * read in one pipelined round trip, changed in memory, and stored in one MULTI/EXEC round trip; an aborted
 * EXEC is retried. An ingest call handles its accounts in chunks of two round trips each.
 *
 * <p>Reads: a sync reads one consistent view (version, index ranges, groups) in one MULTI/EXEC round trip,
 * then fetches the sessions' stored JSON in one pipeline. A session changed in between comes with its
 * newer content (and again in the next delta); one removed in between is named in {@code removed_sessions}.
 *
 * <p>MULTI/EXEC always goes out in one pipeline flush ({@link Multi}): Jedis's own Transaction waits for
 * the QUEUED replies before it sends EXEC, which would cost a second round trip.
 */
public final class RedisInbox implements AutoCloseable {
  private static final int STRIPES = 4096;
  private static final int MAX_ATTEMPTS = 32;
  /** Bounds one chunk of an ingest call: its read pipeline, its MULTI, and how long it holds locks. */
  private static final int CHUNK_DELIVERIES = 4000;
  private static final int CHUNK_ACCOUNTS = 500;

  /**
   * One page of a ZSET scored like {@link PeerKeys#rank}, after the entry (ARGV[1] score, ARGV[2] member)
   * (ARGV[1] empty: from the top), ARGV[3] entries, as member, score, ... A script so the position is found
   * in the same atomic step as the page is read, even when that entry has moved or gone, and however many
   * entries share its score (ZRANGEBYLEX is undefined across scores). Members compare bytewise, as Redis
   * orders them.
   */
  private static final String RANK_PAGE = """
      local key, count = KEYS[1], tonumber(ARGV[3])
      local start = 0
      if ARGV[1] ~= '' then
        local cur = redis.call('ZSCORE', key, ARGV[2])
        if cur and tonumber(cur) == tonumber(ARGV[1]) then
          start = redis.call('ZRANK', key, ARGV[2]) + 1
        else
          local function lt(a, b)
            local n = math.min(#a, #b)
            for i = 1, n do
              local x, y = string.byte(a, i), string.byte(b, i)
              if x ~= y then return x < y end
            end
            return #a < #b
          end
          start = redis.call('ZCOUNT', key, '-inf', '(' .. ARGV[1])
          local ties = redis.call('ZRANGEBYSCORE', key, ARGV[1], ARGV[1])
          for i = 1, #ties do
            if not lt(ties[i], ARGV[2]) then break end
            start = start + 1
          end
        end
      end
      return redis.call('ZRANGE', key, start, start + count - 1, 'WITHSCORES')
      """;

  private final JedisPool pool;
  private final ExecutorService executor;
  private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
  private final Limits limits;

  public RedisInbox(String host, int port, int poolSize) {
    this(host, port, poolSize, Limits.defaults());
  }

  /** {@code poolSize}: Redis connections, and threads of the executor that runs the calls. */
  public RedisInbox(String host, int port, int poolSize, Limits limits) {
    GenericObjectPoolConfig<Jedis> config = new GenericObjectPoolConfig<>();
    config.setMaxTotal(poolSize);
    config.setMaxIdle(poolSize);
    config.setMinIdle(0);
    config.setMaxWait(Duration.ofSeconds(5));
    config.setJmxEnabled(false);
    // RESP2: the replies read out of EXEC's array are decoded in that form
    DefaultJedisClientConfig client = DefaultJedisClientConfig.builder()
        .connectionTimeoutMillis(5000).socketTimeoutMillis(5000).protocol(RedisProtocol.RESP2).build();
    this.pool = new JedisPool(config, new HostAndPort(host, port), client);
    AtomicInteger n = new AtomicInteger();
    this.executor = Executors.newFixedThreadPool(poolSize, r -> {
      Thread t = new Thread(r, "redis-inbox-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    for (int i = 0; i < STRIPES; i++) stripes[i] = new ReentrantLock();
    this.limits = limits;
  }

  @Override
  public void close() {
    executor.shutdown();
    try {
      executor.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    pool.close();
  }

  // ---------------------------------------------------------------- results

  public record IngestResult(int accepted, int ignored) {}

  public record GroupResult(Group group, long version) {}

  public record AddResult(Group group, int added, long version) {}

  public record SessionResult(Session session, long version) {}

  /** Groups as stored contract JSON, in position order. */
  public record GroupList(List<String> groups, long version) {
    public byte[] toJson() {
      return json(g -> {
        rawArray(g, "groups", groups);
        g.writeNumberField("version", version);
      });
    }
  }

  /** One page of a group's mapping list, each session in full (stored contract JSON). */
  public record SessionsPage(List<String> sessions, String next, long version) {
    public byte[] toJson() {
      return json(g -> {
        rawArray(g, "sessions", sessions);
        if (next == null) g.writeNullField("next");
        else g.writeStringField("next", next);
        g.writeNumberField("version", version);
      });
    }
  }

  /** One sync response; {@code groups} and {@code sessions} are stored contract JSON, copied as is. */
  public record SyncPage(String cursor, boolean hasMore, boolean reset, long version, List<String> groups,
                         List<String> removedGroups, List<String> sessions, List<String> removedSessions) {
    public byte[] toJson() {
      return json(g -> {
        g.writeStringField("cursor", cursor);
        g.writeBooleanField("has_more", hasMore);
        g.writeBooleanField("reset", reset);
        g.writeNumberField("version", version);
        rawArray(g, "groups", groups);
        stringArray(g, "removed_groups", removedGroups);
        rawArray(g, "sessions", sessions);
        stringArray(g, "removed_sessions", removedSessions);
      });
    }
  }

  // ---------------------------------------------------------------- writes

  /** The contract's ingest, already split per recipient (items in call order); answers once Redis stored it. */
  public CompletionStage<IngestResult> ingest(Map<String, List<IngestItem>> perAccount) {
    Map<String, List<IngestItem>> calls = new LinkedHashMap<>(perAccount);
    return run(() -> {
      int accepted = 0;
      int ignored = 0;
      List<String> chunk = new ArrayList<>();
      int deliveries = 0;
      List<String> accounts = new ArrayList<>(calls.keySet());
      for (int i = 0; i < accounts.size(); i++) {
        chunk.add(accounts.get(i));
        deliveries += calls.get(accounts.get(i)).size();
        if (i == accounts.size() - 1 || deliveries >= CHUNK_DELIVERIES || chunk.size() >= CHUNK_ACCOUNTS) {
          int[] r = writeAccounts(chunk, a -> sessionIds(calls.get(a)), works -> {
            int[] sum = new int[2];
            for (AccountWrite w : works) {
              int[] one = w.ingest(calls.get(w.account));
              sum[0] += one[0];
              sum[1] += one[1];
            }
            return sum;
          });
          accepted += r[0];
          ignored += r[1];
          chunk = new ArrayList<>();
          deliveries = 0;
        }
      }
      return new IngestResult(accepted, ignored);
    });
  }

  /** Convenience for one account. */
  public CompletionStage<IngestResult> ingest(String account, List<IngestItem> items) {
    return ingest(Map.of(account, items));
  }

  /** A custom group (position one above the highest in use); {@code groupId} null: the server picks one. */
  public CompletionStage<GroupResult> createGroup(String account, String groupId, String name) {
    return run(() -> writeAccount(account, List.of(), w -> new GroupResult(w.createGroup(groupId, name, limits), w.version())));
  }

  /** Bulk add to a custom group; every session must exist (else not_found, nothing added). */
  public CompletionStage<AddResult> addMembers(String account, String groupId, List<String> sessionIds) {
    List<String> ids = List.copyOf(sessionIds);
    return run(() -> writeAccount(account, ids, w -> {
      int added = w.addMembers(groupId, ids);
      return new AddResult(w.group(groupId), added, w.version());
    }));
  }

  /** Sets the pinned list of any group (every id a member). */
  public CompletionStage<GroupResult> setPinned(String account, String groupId, List<String> sessionIds) {
    List<String> ids = List.copyOf(sessionIds);
    return run(() -> writeAccount(account, ids, w -> new GroupResult(w.setPinned(groupId, ids, limits), w.version())));
  }

  /** Moves a session to inbox or archive. */
  public CompletionStage<SessionResult> moveBox(String account, String sessionId, String box) {
    return run(() -> writeAccount(account, List.of(sessionId), w -> new SessionResult(w.moveBox(sessionId, box), w.version())));
  }

  private <T> T writeAccount(String account, Collection<String> sessionIds, Function<AccountWrite, T> change) {
    return writeAccounts(List.of(account), a -> sessionIds, works -> change.apply(works.get(0)));
  }

  /**
   * Reads the accounts' state for the named sessions while WATCHing their versions, lets {@code change}
   * modify it, and stores the outcome in one MULTI/EXEC; when another process wrote one of the accounts in
   * between, EXEC aborts and it all runs again. Holds the accounts' stripe locks throughout, so in this
   * process it never has to retry.
   */
  private <T> T writeAccounts(List<String> accounts, Function<String, Collection<String>> sessionIds,
                              Function<List<AccountWrite>, T> change) {
    Runnable unlock = lock(accounts);
    try {
      for (int attempt = 1; ; attempt++) {
        try (Jedis jedis = pool.getResource()) {
          Connection conn = jedis.getConnection();
          boolean watching = true;
          Multi m = null;
          try {
            Pipeline p = new Pipeline(conn);
            List<Loaded> loads = new ArrayList<>(accounts.size());
            for (String a : accounts) loads.add(Loaded.request(p, a, sessionIds.apply(a)));
            p.sync();
            List<AccountWrite> works = new ArrayList<>(loads.size());
            for (Loaded l : loads) works.add(l.toWrite());
            T result = change.apply(works); // a PeerException here leaves nothing to undo but the WATCH
            if (works.stream().noneMatch(AccountWrite::changed)) return result;
            m = new Multi(conn);
            for (AccountWrite w : works) if (w.changed()) w.write(m.pipeline);
            List<Object> replies = m.exec();
            m = null;
            watching = false; // EXEC ends the WATCH, committed or not
            if (replies != null) return result;
          } finally {
            if (m != null) conn.setBroken(); // a MULTI half sent or half read: the pool must drop this connection
            else if (watching && !conn.isBroken()) jedis.unwatch();
          }
        }
        if (attempt >= MAX_ATTEMPTS) throw new IllegalStateException("gave up after " + attempt + " concurrent writes to " + accounts);
      }
    } finally {
      unlock.run();
    }
  }

  /** The pipelined reads of one account's write. */
  private record Loaded(String account, Response<String> version, Response<Map<String, String>> groups, List<String> sids,
                        List<Response<String>> states, Response<List<String>> tombs) {

    static Loaded request(Pipeline p, String a, Collection<String> sessionIds) {
      List<String> sids = List.copyOf(new LinkedHashSet<>(sessionIds));
      p.sendCommand(Protocol.Command.WATCH, PeerKeys.ver(a));
      Response<String> ver = p.get(PeerKeys.ver(a));
      Response<Map<String, String>> groups = p.hgetAll(PeerKeys.groups(a));
      List<Response<String>> states = new ArrayList<>(sids.size());
      for (String sid : sids) states.add(p.hget(PeerKeys.session(a, sid), "d"));
      Response<List<String>> tombs = sids.isEmpty() ? null : p.hmget(PeerKeys.tombs(a), sids.toArray(String[]::new));
      return new Loaded(a, ver, groups, sids, states, tombs);
    }

    AccountWrite toWrite() {
      Map<String, Session> sessions = new HashMap<>();
      Map<String, AccountWrite.Tomb> tombstones = new HashMap<>();
      List<String> tombValues = tombs == null ? List.of() : tombs.get();
      for (int i = 0; i < sids.size(); i++) {
        String state = states.get(i).get();
        sessions.put(sids.get(i), state == null ? null : PeerCodec.session(state));
        String tomb = tombValues.get(i);
        tombstones.put(sids.get(i), tomb == null ? null : AccountWrite.Tomb.decode(tomb));
      }
      return new AccountWrite(account, number(version.get()), groups.get(), sessions, tombstones);
    }
  }

  private static Set<String> sessionIds(List<IngestItem> items) {
    Set<String> ids = new LinkedHashSet<>();
    for (IngestItem i : items) ids.add(i.sessionId());
    return ids;
  }

  /** Locks the accounts' stripes in index order (so two calls never deadlock); returns the unlock. */
  private Runnable lock(Collection<String> accounts) {
    int[] idx = accounts.stream().mapToInt(a -> Math.floorMod(a.hashCode(), STRIPES)).distinct().sorted().toArray();
    for (int i : idx) stripes[i].lock();
    return () -> {
      for (int k = idx.length - 1; k >= 0; k--) stripes[idx[k]].unlock();
    };
  }

  // ---------------------------------------------------------------- sync

  /**
   * {@code POST /v1/sync} for the whole account. {@code cursor} null: a first sync. A cursor from a newer
   * history than Redis holds (e.g. after a flush) gives {@code reset: true} and a first-sync batch.
   */
  public CompletionStage<SyncPage> sync(String account, String cursor, int limit) {
    if (limit < 1) throw new IllegalArgumentException("limit must be at least 1");
    return run(() -> {
      PeerCursor c = PeerCursor.decode(account, cursor);
      try (Jedis jedis = pool.getResource()) {
        Connection conn = jedis.getConnection();
        SyncPage page = c instanceof PeerCursor.Delta d ? delta(conn, account, d, limit) : first(conn, account, (PeerCursor.First) c, limit, false);
        return page != null ? page : first(conn, account, null, limit, true);
      }
    });
  }

  /**
   * A first-sync page: the groups' pinned sessions, then the rank walk; once the walk is done, the cursor
   * continues as a delta from {@code base}, the version the first page saw, so whatever changed while the
   * client was paging arrives before {@code has_more} turns false. Null when the cursor is from a newer history.
   */
  private SyncPage first(Connection conn, String a, PeerCursor.First f, int limit, boolean reset) {
    Multi m = new Multi(conn);
    int verR = m.send(Protocol.Command.GET, PeerKeys.ver(a));
    int groupsR = m.send(Protocol.Command.HGETALL, PeerKeys.groups(a));
    int walkR = m.rankPage(PeerKeys.rank(a), f == null ? null : f.sid(), f == null ? 0 : f.score(), limit + 1);
    m.execOrFail();
    long ver = number(m.get(verR, BuilderFactory.STRING));
    if (f != null && (f.base() > ver || f.groupsVersion() > ver)) return null;
    long base = f == null ? ver : f.base();
    long groupsVersion = f == null ? -1 : f.groupsVersion();
    Map<String, String> groupJsons = withSystemGroups(m.get(groupsR, BuilderFactory.STRING_MAP));

    Set<String> ids = new LinkedHashSet<>();
    PeerCursor next = null;
    List<String> pinned = pinnedOf(groupJsons.values());
    long pinnedHash = f == null ? SyncPlanner.pinnedHash(pinned) : f.pinnedHash();
    int pinnedOffset = f == null ? 0 : f.pinnedOffset();
    if (pinnedOffset != PeerCursor.PINNED_DONE) {
      int i = pinnedOffset;
      while (i < pinned.size() && ids.size() < limit) ids.add(pinned.get(i++));
      if (i < pinned.size()) next = new PeerCursor.First(base, ver, i, 0, null, pinnedHash);
    }
    if (next == null) {
      // imsync's planner before its pin history (cursor formats 2-3): the walk skips the pinned sessions the
      // pinned phase sent while they are unchanged; if pins change mid-run it skips none (a pinned one may
      // come twice). The peer keeps that rule: it is a benchmark peer, and a pin history in Redis adds nothing
      // to what it measures.
      Set<String> sentPinned = pinnedHash == SyncPlanner.pinnedHash(pinned) ? new HashSet<>(pinned) : Set.of();
      List<Entry> walk = m.entries(walkR);
      long score = f == null ? 0 : f.score();
      String sid = f == null ? null : f.sid();
      int consumed = 0;
      for (Entry e : walk) {
        boolean sent = sentPinned.contains(e.sid) || ids.contains(e.sid);
        if (!sent && ids.size() >= limit) break;
        if (!sent) ids.add(e.sid);
        score = e.score;
        sid = e.sid;
        consumed++;
      }
      boolean walked = consumed == walk.size() && walk.size() <= limit;
      if (!walked) next = new PeerCursor.First(base, ver, PeerCursor.PINNED_DONE, score, sid, pinnedHash);
      else next = new PeerCursor.Delta(base, ver); // base == ver: caught up
    }
    boolean hasMore = next instanceof PeerCursor.First || ((PeerCursor.Delta) next).after() < ver;
    return page(conn, a, next, hasMore, reset, ver, groupJsons, groupsVersion, ids, List.of());
  }

  /** A delta page: the live and removed sessions changed after the cursor, oldest change first. */
  private SyncPage delta(Connection conn, String a, PeerCursor.Delta d, int limit) {
    Multi m = new Multi(conn);
    int verR = m.send(Protocol.Command.GET, PeerKeys.ver(a));
    String after = "(" + d.after();
    String count = Integer.toString(limit + 1);
    int liveR = m.send(Protocol.Command.ZRANGEBYSCORE, PeerKeys.byVersion(a), after, "+inf", "WITHSCORES", "LIMIT", "0", count);
    int goneR = m.send(Protocol.Command.ZRANGEBYSCORE, PeerKeys.removed(a), after, "+inf", "WITHSCORES", "LIMIT", "0", count);
    int groupsR = m.send(Protocol.Command.HGETALL, PeerKeys.groups(a));
    m.execOrFail();
    long ver = number(m.get(verR, BuilderFactory.STRING));
    if (d.after() > ver || d.groupsVersion() > ver) return null;

    // versions are unique across both sets (one per change), so merging by version is a total order
    List<Change> changes = new ArrayList<>();
    for (Tuple x : m.get(liveR, BuilderFactory.TUPLE_LIST)) changes.add(new Change((long) x.getScore(), x.getElement(), false));
    for (Tuple x : m.get(goneR, BuilderFactory.TUPLE_LIST)) changes.add(new Change((long) x.getScore(), x.getElement(), true));
    changes.sort((x, y) -> Long.compare(x.version, y.version));
    boolean hasMore = changes.size() > limit;
    List<Change> taken = hasMore ? changes.subList(0, limit) : changes;
    Set<String> ids = new LinkedHashSet<>();
    List<String> removed = new ArrayList<>();
    for (Change c : taken) {
      if (c.removed) removed.add(c.sid);
      else ids.add(c.sid);
    }
    PeerCursor next = new PeerCursor.Delta(hasMore ? taken.get(taken.size() - 1).version : ver, ver);
    return page(conn, a, next, hasMore, false, ver, withSystemGroups(m.get(groupsR, BuilderFactory.STRING_MAP)), d.groupsVersion(), ids, removed);
  }

  private record Change(long version, String sid, boolean removed) {}

  /** Fetches the sessions' stored JSON (one pipeline) and assembles the response. */
  private SyncPage page(Connection conn, String a, PeerCursor next, boolean hasMore, boolean reset, long ver,
                        Map<String, String> groupJsons, long groupsSince, Collection<String> ids, List<String> removed) {
    List<String> sessions = new ArrayList<>(ids.size());
    List<String> gone = new ArrayList<>(removed);
    Map<String, String> jsons = fetchJson(conn, a, ids);
    for (String sid : ids) {
      String j = jsons.get(sid);
      if (j != null) sessions.add(j);
      else gone.add(sid); // removed since the snapshot: the next delta names it too
    }
    Map<String, String> changed = new HashMap<>();
    groupJsons.forEach((gid, j) -> {
      if (PeerCodec.groupVersion(j) > groupsSince) changed.put(gid, j); // a delta usually has none or one
    });
    List<String> groups = orderedGroupJsons(changed);
    return new SyncPage(PeerCursor.encode(a, next), hasMore, reset, ver, groups, List.of(), sessions, gone);
  }

  private static Map<String, String> fetchJson(Connection conn, String a, Collection<String> ids) {
    Map<String, String> out = new HashMap<>();
    if (ids.isEmpty()) return out;
    Pipeline p = new Pipeline(conn);
    Map<String, Response<String>> rs = new LinkedHashMap<>();
    for (String sid : ids) rs.put(sid, p.hget(PeerKeys.session(a, sid), "j"));
    p.sync();
    rs.forEach((sid, r) -> out.put(sid, r.get()));
    return out;
  }

  // ---------------------------------------------------------------- plain reads

  /** {@code GET /v1/groups}: every group, in position order. */
  public CompletionStage<GroupList> groups(String account) {
    return run(() -> {
      try (Jedis jedis = pool.getResource()) {
        Multi m = new Multi(jedis.getConnection());
        int verR = m.send(Protocol.Command.GET, PeerKeys.ver(account));
        int groupsR = m.send(Protocol.Command.HGETALL, PeerKeys.groups(account));
        m.execOrFail();
        return new GroupList(orderedGroupJsons(withSystemGroups(m.get(groupsR, BuilderFactory.STRING_MAP))),
            number(m.get(verR, BuilderFactory.STRING)));
      }
    });
  }

  /**
   * The "naive" folder-by-folder read: one page of a group's mapping list (pins first, then sort_key desc),
   * each session in full. {@code after}: the {@code next} of the previous page, or null.
   */
  public CompletionStage<SessionsPage> groupSessions(String account, String groupId, String after, int limit) {
    if (limit < 1) throw new IllegalArgumentException("limit must be at least 1");
    return run(() -> {
      Position pos = Position.decode(after);
      try (Jedis jedis = pool.getResource()) {
        Connection conn = jedis.getConnection();
        Multi m = new Multi(conn);
        int verR = m.send(Protocol.Command.GET, PeerKeys.ver(account));
        int groupR = m.send(Protocol.Command.HGET, PeerKeys.groups(account), groupId);
        int walkR = m.rankPage(PeerKeys.group(account, groupId), pos.sid, pos.score, limit + 1);
        m.execOrFail();
        String groupJson = m.get(groupR, BuilderFactory.STRING);
        if (groupJson == null && !Box.isBox(groupId)) throw new PeerException(ErrorCode.NOT_FOUND, "group \"" + groupId + "\" not found");
        List<String> pinned = groupJson == null ? List.of() : PeerCodec.group(groupJson).pinned();

        Set<String> ids = new LinkedHashSet<>();
        String next = null;
        if (pos.pinnedIndex >= 0) {
          int i = pos.pinnedIndex;
          while (i < pinned.size() && ids.size() < limit) ids.add(pinned.get(i++));
          if (i < pinned.size()) next = Position.pinned(i);
        }
        if (next == null) {
          Set<String> skip = new HashSet<>(pinned);
          List<Entry> walk = m.entries(walkR);
          int consumed = 0;
          Entry last = null;
          for (Entry e : walk) {
            if (ids.size() >= limit) break;
            if (!skip.contains(e.sid)) ids.add(e.sid);
            last = e;
            consumed++;
          }
          boolean walked = consumed == walk.size() && walk.size() <= limit;
          // nothing walked yet: the pins filled this page, the next one starts the tail
          if (!walked) next = last == null ? Position.pinned(pinned.size()) : Position.tail(last.score, last.sid);
        }
        Map<String, String> jsons = fetchJson(conn, account, ids);
        List<String> sessions = new ArrayList<>(ids.size());
        for (String sid : ids) if (jsons.get(sid) != null) sessions.add(jsons.get(sid));
        return new SessionsPage(sessions, next, number(m.get(verR, BuilderFactory.STRING)));
      }
    });
  }

  /** Page tokens of {@link #groupSessions}: {@code p<index>} in the pins, {@code t<score>:<sid>} after them. */
  private record Position(int pinnedIndex, long score, String sid) {
    static Position decode(String token) {
      if (token == null) return new Position(0, 0, null);
      try {
        String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        if (raw.startsWith("p")) {
          int i = Integer.parseInt(raw.substring(1));
          if (i >= 0) return new Position(i, 0, null);
        } else if (raw.startsWith("t")) {
          int colon = raw.indexOf(':');
          String sid = raw.substring(colon + 1);
          if (Json.SESSION_ID.matcher(sid).matches()) return new Position(-1, Long.parseLong(raw.substring(1, colon)), sid);
        }
      } catch (RuntimeException ignored) {
        // falls through to the error
      }
      throw new PeerException(ErrorCode.INVALID_REQUEST, "after is not a token this server issued");
    }

    static String pinned(int i) {
      return token("p" + i);
    }

    static String tail(long score, String sid) {
      return token("t" + score + ":" + sid);
    }

    private static String token(String raw) {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }
  }

  // ---------------------------------------------------------------- helpers

  private record Entry(String sid, long score) {}

  /**
   * MULTI, the queued commands and EXEC in one pipeline flush: one round trip. The queued commands' own
   * replies are just QUEUED; their results are read out of EXEC's array by position.
   */
  private static final class Multi {
    final Pipeline pipeline;
    private int queued;
    private List<Object> replies;

    Multi(Connection conn) {
      pipeline = new Pipeline(conn);
      pipeline.sendCommand(Protocol.Command.MULTI, new String[0]);
    }

    /** Queues a command; returns its position in EXEC's reply. */
    int send(Protocol.Command command, String... args) {
      pipeline.sendCommand(command, args);
      return queued++;
    }

    /** Queues {@link #RANK_PAGE}: {@code count} entries after ({@code score}, {@code sid}), or from the top when sid is null. */
    int rankPage(String key, String sid, long score, int count) {
      return sid == null
          ? send(Protocol.Command.EVAL, RANK_PAGE, "1", key, "", "", Integer.toString(count))
          : send(Protocol.Command.EVAL, RANK_PAGE, "1", key, Long.toString(score), sid, Integer.toString(count));
    }

    /** Null when a WATCHed key changed since WATCH (nothing was written); a command's error is thrown. */
    @SuppressWarnings("unchecked")
    List<Object> exec() {
      Response<Object> exec = pipeline.sendCommand(Protocol.Command.EXEC, new String[0]);
      pipeline.sync();
      replies = (List<Object>) exec.get();
      if (replies != null) for (Object r : replies) if (r instanceof JedisDataException e) throw e;
      return replies;
    }

    void execOrFail() {
      if (exec() == null) throw new IllegalStateException("a read transaction was aborted");
    }

    <T> T get(int i, redis.clients.jedis.Builder<T> builder) {
      return builder.build(replies.get(i));
    }

    /** The rank script's flat member, score, ... reply. */
    List<Entry> entries(int i) {
      List<?> flat = (List<?>) replies.get(i);
      List<Entry> out = new ArrayList<>(flat.size() / 2);
      for (int k = 0; k + 1 < flat.size(); k += 2) {
        out.add(new Entry(text(flat.get(k)), (long) Double.parseDouble(text(flat.get(k + 1)))));
      }
      return out;
    }

    private static String text(Object o) {
      return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(o);
    }
  }

  private static long number(String s) {
    return s == null ? 0 : Long.parseLong(s);
  }

  /** inbox and archive exist from the start, before the first write stores them. */
  private static Map<String, String> withSystemGroups(Map<String, String> stored) {
    if (stored.containsKey(Box.INBOX) && stored.containsKey(Box.ARCHIVE)) return stored;
    Map<String, String> all = new HashMap<>(stored);
    all.putIfAbsent(Box.INBOX, PeerCodec.render(Group.system(Box.INBOX, "Inbox", 0)));
    all.putIfAbsent(Box.ARCHIVE, PeerCodec.render(Group.system(Box.ARCHIVE, "Archive", 1)));
    return all;
  }

  /** Orders by position then id; parses the groups (an account has at most a few dozen). */
  private static List<String> orderedGroupJsons(Map<String, String> groupJsons) {
    Map<Group, String> byGroup = new LinkedHashMap<>();
    for (String j : groupJsons.values()) byGroup.put(PeerCodec.group(j), j);
    List<String> out = new ArrayList<>(byGroup.size());
    for (Group g : AccountWrite.ordered(byGroup.keySet())) out.add(byGroup.get(g));
    return out;
  }

  /** Pinned ids of all groups, in group order then pinned order, each once. */
  private static List<String> pinnedOf(Collection<String> groupJsons) {
    List<Group> groups = new ArrayList<>();
    for (String j : groupJsons) {
      if (j.contains("\"pinned\":[]")) continue; // the common case: no parse needed
      groups.add(PeerCodec.group(j));
    }
    Set<String> ids = new LinkedHashSet<>();
    for (Group g : AccountWrite.ordered(groups)) ids.addAll(g.pinned());
    return new ArrayList<>(ids);
  }

  private <T> CompletionStage<T> run(Callable<T> task) {
    CompletableFuture<T> f = new CompletableFuture<>();
    try {
      executor.execute(() -> {
        try {
          f.complete(task.call());
        } catch (Throwable e) {
          f.completeExceptionally(e);
        }
      });
    } catch (RejectedExecutionException e) {
      f.completeExceptionally(e); // closed: the HTTP layer answers 503
    }
    return f;
  }

  private interface JsonBody {
    void write(JsonGenerator g) throws IOException;
  }

  private static byte[] json(JsonBody body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
    try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
      g.writeStartObject();
      body.write(g);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void rawArray(JsonGenerator g, String field, List<String> jsons) throws IOException {
    g.writeArrayFieldStart(field);
    for (String j : jsons) g.writeRawValue(j);
    g.writeEndArray();
  }

  private static void stringArray(JsonGenerator g, String field, List<String> values) throws IOException {
    g.writeArrayFieldStart(field);
    for (String v : values) g.writeString(v);
    g.writeEndArray();
  }
}
