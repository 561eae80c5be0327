package imsync.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;

/**
 * The terminal side of imsync: a local mirror of one account's session list and groups, kept in sync.
 *
 * <p>On {@link #start()} it loads the store, catches up from the stored cursor (paging while {@code has_more}),
 * sends the queued actions, checks the mirror by digest ({@code POST /v1/sync/verify}) and goes live on the
 * WebSocket stream (long poll when the stream cannot be opened). When the server is out of reach it waits
 * (exponential backoff with jitter) and does it all again: every reconnect is followed by a repair, and a
 * repair also runs every {@code verifyEvery}. A reset (the server no longer knows the cursor) is paged into a
 * staging copy and swapped in at once, so a list on screen never empties and fills up again.
 *
 * <p>Everything runs on one thread of the client's own: pages, frames, actions and view updates are applied
 * in order, and listeners are called there. Reads ({@link #snapshot()}, views, {@link #state()}) are safe from
 * any thread.
 */
public final class ImsyncClient implements AutoCloseable {

  /** How a client is made. */
  public static final class Builder {
    private final String baseUrl;
    private final Supplier<String> token;
    private MirrorStore store = new InMemoryStore();
    private ClientListener listener = new ClientListener() {};
    private int pageLimit = 200;
    private Duration longPollWait = Duration.ofSeconds(25);
    private Duration backoffBase = Duration.ofMillis(500);
    private Duration backoffMax = Duration.ofSeconds(30);
    private Duration verifyEvery = Duration.ofMinutes(10);
    private int streamFailuresBeforeLongPoll = 2;
    private Duration longPollBeforeStreamAgain = Duration.ofMinutes(2);
    private Random random = new Random();
    private OkHttpClient http;

    Builder(String baseUrl, Supplier<String> token) {
      this.baseUrl = Objects.requireNonNull(baseUrl);
      this.token = Objects.requireNonNull(token);
    }

    public Builder store(MirrorStore value) {
      store = value;
      return this;
    }

    public Builder listener(ClientListener value) {
      listener = value;
      return this;
    }

    /** Sessions per sync page (1–1000). */
    public Builder pageLimit(int value) {
      pageLimit = value;
      return this;
    }

    public Builder longPollWait(Duration value) {
      longPollWait = value;
      return this;
    }

    public Builder backoff(Duration base, Duration max) {
      backoffBase = base;
      backoffMax = max;
      return this;
    }

    public Builder verifyEvery(Duration value) {
      verifyEvery = value;
      return this;
    }

    /** After this many streams in a row that did not open (while plain HTTP works), long poll for a while. */
    public Builder streamFallback(int failures, Duration longPollFor) {
      streamFailuresBeforeLongPoll = failures;
      longPollBeforeStreamAgain = longPollFor;
      return this;
    }

    public Builder random(Random value) {
      random = value;
      return this;
    }

    public Builder http(OkHttpClient value) {
      http = value;
      return this;
    }

    public ImsyncClient build() {
      return new ImsyncClient(this);
    }
  }

  public static Builder builder(String baseUrl, Supplier<String> token) {
    return new Builder(baseUrl, token);
  }

  private final MirrorStore store;
  private final ClientListener listener;
  private final ImsyncApi api;
  private final OkHttpClient http;
  private final boolean ownHttp;
  private final Backoff backoff;
  private final int pageLimit;
  private final Duration longPollWait;
  private final Duration verifyEvery;
  private final int streamFailuresBeforeLongPoll;
  private final Duration longPollBeforeStreamAgain;
  private final ScheduledExecutorService loop;
  private final ExecutorService poller;
  private volatile Thread loopThread;

  // --- the mirror and the engine's state: touched on the loop thread only ---
  private final Map<String, Session> sessions = new LinkedHashMap<>();
  private final Map<String, Group> groups = new LinkedHashMap<>();
  private String cursor;
  private long version;
  private final List<PendingAction> queue = new ArrayList<>();
  /** A reset being paged in: swapped in whole when its last page came. */
  private Staging staging;
  private int attempt;
  private int streamFailures;
  private Instant longPollUntil = Instant.MIN;
  private WebSocket socket;
  private boolean socketOpened;
  private int generation;
  private ScheduledFuture<?> retry;
  private boolean started;
  private boolean closed;

  private final Map<String, SessionListView> views = new LinkedHashMap<>();
  private volatile Badges badges = Badges.compute(Map.of(), List.of());
  private volatile ClientState state = ClientState.of(ClientState.Kind.IDLE);

  private ImsyncClient(Builder b) {
    this.store = b.store;
    this.listener = b.listener;
    this.pageLimit = b.pageLimit;
    this.longPollWait = b.longPollWait;
    this.verifyEvery = b.verifyEvery;
    this.streamFailuresBeforeLongPoll = b.streamFailuresBeforeLongPoll;
    this.longPollBeforeStreamAgain = b.longPollBeforeStreamAgain;
    this.backoff = new Backoff(b.backoffBase, b.backoffMax, b.random);
    this.ownHttp = b.http == null;
    // the read timeout outlasts a long poll; pings find a stream whose peer vanished without a close
    this.http = b.http != null ? b.http : new OkHttpClient.Builder()
        .connectTimeout(Duration.ofSeconds(5))
        .readTimeout(b.longPollWait.plusSeconds(15))
        .pingInterval(Duration.ofSeconds(15))
        .build();
    this.api = new ImsyncApi(b.baseUrl, http, b.token, listener);
    this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "imsync-client");
      t.setDaemon(true);
      loopThread = t;
      return t;
    });
    this.poller = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "imsync-client-poll");
      t.setDaemon(true);
      return t;
    });
    // the mirror as stored, shown before the network answers (a cold start paints at once)
    MirrorStore.Snapshot s = store.load();
    sessions.putAll(s.sessions);
    groups.putAll(s.groups);
    cursor = s.cursor;
    version = s.version;
    queue.addAll(store.pending());
    badges = Badges.compute(effectiveSessions(), inOrder(effectiveGroups()));
  }

  // ------------------------------------------------------------------ public API

  /** Connects and keeps the mirror in sync until {@link #close()}. */
  public void start() {
    loop.execute(() -> {
      if (started || closed) return;
      started = true;
      connect();
    });
    long every = verifyEvery.toMillis();
    loop.scheduleWithFixedDelay(this::scheduledRepair, every, every, TimeUnit.MILLISECONDS);
  }

  /** Try now instead of at the next retry (the app saw the network come back). */
  public void reconnectNow() {
    loop.execute(() -> {
      if (!started || closed) return;
      ClientState.Kind k = state.kind;
      if (k == ClientState.Kind.OFFLINE || k == ClientState.Kind.ERROR) {
        attempt = 0;
        connect();
      }
    });
  }

  /** Checks the mirror by digest now (and fixes what differs); the stream is reopened after it. */
  public void repairNow() {
    loop.execute(() -> {
      if (started && !closed && state.kind == ClientState.Kind.LIVE) connect();
    });
  }

  public ClientState state() {
    return state;
  }

  public Badges badges() {
    return badges;
  }

  /** The view of one group ({@code null}: every session), created on first use and kept up to date. */
  public SessionListView view(String groupId) {
    String key = groupId == null ? "" : groupId;
    SessionListView v;
    synchronized (views) {
      v = views.get(key);
      if (v != null) return v;
      v = new SessionListView(groupId);
      views.put(key, v);
    }
    SessionListView created = v;
    onLoop(() -> {
      created.update(effectiveSessions(), effectiveGroups());
      return null;
    });
    return v;
  }

  /** A consistent copy of the mirror, its queue and badges. */
  public MirrorSnapshot snapshot() {
    return onLoop(() -> new MirrorSnapshot(cursor, version, sessions, groups, queue, badges, state));
  }

  /** The groups with the queued actions applied, in display order. */
  public List<Group> groups() {
    return onLoop(() -> inOrder(effectiveGroups()));
  }

  public PendingAction markRead(String sessionId, long seq) {
    return enqueue(PendingAction.of(PendingAction.Type.READ, sessionId, null, seq, null));
  }

  public PendingAction markUnread(String sessionId) {
    return enqueue(PendingAction.of(PendingAction.Type.UNREAD, sessionId, null, 0, null));
  }

  /** Pins a session at the top of a group's pinned list. */
  public PendingAction pin(String groupId, String sessionId) {
    return enqueue(PendingAction.of(PendingAction.Type.PIN, sessionId, groupId, 0, null));
  }

  public PendingAction unpin(String groupId, String sessionId) {
    return enqueue(PendingAction.of(PendingAction.Type.UNPIN, sessionId, groupId, 0, null));
  }

  /** {@code box}: {@code inbox} or {@code archive}. */
  public PendingAction moveToBox(String sessionId, String box) {
    if (!Group.INBOX.equals(box) && !Group.ARCHIVE.equals(box)) throw new IllegalArgumentException("box is inbox or archive");
    return enqueue(PendingAction.of(PendingAction.Type.BOX, sessionId, null, 0, box));
  }

  /** Muted until {@code untilMillis} (epoch ms; 0 unmutes). */
  public PendingAction mute(String sessionId, long untilMillis) {
    return enqueue(PendingAction.of(PendingAction.Type.MUTE, sessionId, null, untilMillis, null));
  }

  /** Sets the draft ("" clears it). */
  public PendingAction setDraft(String sessionId, String text) {
    return enqueue(PendingAction.of(PendingAction.Type.DRAFT, sessionId, null, 0, Objects.requireNonNull(text)));
  }

  /** Stops syncing and closes the store. Queued actions stay in a persistent store for the next run. */
  @Override
  public void close() {
    try {
      onLoop(() -> {
        closed = true;
        closeSocket();
        if (retry != null) retry.cancel(false);
        return null;
      });
    } catch (RuntimeException alreadyStopped) {
      // the loop is gone: nothing to stop there
    }
    loop.shutdownNow();
    poller.shutdownNow();
    try {
      loop.awaitTermination(10, TimeUnit.SECONDS);
      poller.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (ownHttp) {
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
    store.close();
    state = ClientState.of(ClientState.Kind.IDLE);
  }

  // ------------------------------------------------------------------ the engine (loop thread)

  private PendingAction enqueue(PendingAction action) {
    // stored before this returns: the action survives a crash from here on
    PendingAction stored = store.enqueue(action);
    onLoopAsync(() -> {
      queue.add(stored);
      refresh();
      if (state.kind == ClientState.Kind.LIVE) {
        try {
          flushActions();
        } catch (Exception e) {
          failed(e);
        }
      }
    });
    return stored;
  }

  /** Catch up, send the queue, repair, go live; any failure schedules the next try. */
  private void connect() {
    if (closed) return;
    if (retry != null) retry.cancel(false);
    closeSocket();
    try {
      setState(new ClientState(ClientState.Kind.SYNCING, ClientState.Transport.NONE, null, null));
      catchUp();
      flushActions();
      repair();
      flushActions();
      goLive();
    } catch (Exception e) {
      failed(e);
    }
  }

  private void catchUp() throws IOException {
    boolean first = cursor == null;
    do {
      SyncPage page = api.sync(nextCursor(), pageLimit, 0, null);
      // without a cursor the answer is a first sync: a mirror that holds anything treats it as a reset
      handlePage(first && page.cursor != null ? asReset(page) : page, ClientState.Transport.NONE);
      first = false;
      if (!page.hasMore) break;
    } while (true);
  }

  /** Where the next request starts: a reset being paged in goes on from its own last page. */
  private String nextCursor() {
    return staging != null ? staging.cursor : cursor;
  }

  private static SyncPage asReset(SyncPage p) {
    return p.reset ? p : new SyncPage(p.cursor, p.hasMore, true, p.version, p.groups, p.removedGroups, p.sessions, p.removedSessions);
  }

  private void handlePage(SyncPage page, ClientState.Transport via) {
    if (page.reset) staging = sessions.isEmpty() && groups.isEmpty() ? null : new Staging();
    if (staging != null) {
      staging.apply(page); // the mirror's cursor stays the old one until the swap: a failure now means a reset again
      if (!page.hasMore) {
        Staging s = staging;
        staging = null;
        applyBatch(new MirrorStore.Batch(true, s.sessions.values(), List.of(), s.groups.values(), List.of(), page.cursor, page.version));
      }
    } else {
      List<Session> upserts = new ArrayList<>();
      for (Session s : page.sessions) {
        Session mine = page.reset ? null : sessions.get(s.id());
        // an action's answer may have brought a newer copy already: never go back
        if (mine == null || s.version() >= mine.version()) upserts.add(s);
      }
      List<Group> groupUpserts = new ArrayList<>();
      for (Group g : page.groups) {
        Group mine = page.reset ? null : groups.get(g.id());
        if (mine == null || g.version() >= mine.version()) groupUpserts.add(g);
      }
      applyBatch(new MirrorStore.Batch(page.reset, upserts, page.removedSessions, groupUpserts, page.removedGroups, page.cursor, page.version));
    }
    listener.onPage(page, via);
  }

  /** Stores a batch, then applies it to the mirror and the views (the store first: a crash loses no page it acked). */
  private void applyBatch(MirrorStore.Batch b) {
    store.apply(b);
    if (b.clear) {
      sessions.clear();
      groups.clear();
    }
    for (String id : b.removedSessions) sessions.remove(id);
    for (Session s : b.upserts) sessions.put(s.id(), s);
    for (String id : b.removedGroups) groups.remove(id);
    for (Group g : b.groupUpserts) groups.put(g.id(), g);
    if (b.cursor != null) {
      cursor = b.cursor;
      version = b.version;
    }
    refresh();
  }

  /** {@code POST /v1/sync/verify}: buckets that differ are replaced whole, then a catch-up from its cursor. */
  private void repair() throws IOException {
    setState(new ClientState(ClientState.Kind.REPAIRING, ClientState.Transport.NONE, null, null));
    int n = Digests.bucketsFor(sessions.size());
    for (int round = 0; round < 6; round++) {
      JsonNode r = api.verify(Digests.of(sessions.values(), n));
      Set<Integer> mismatched = new HashSet<>();
      for (JsonNode b : r.path("mismatched")) mismatched.add(b.asInt());
      List<String> drop = new ArrayList<>();
      if (!mismatched.isEmpty()) {
        for (String id : sessions.keySet()) if (mismatched.contains(Digests.bucketOf(id, n))) drop.add(id);
      }
      List<Session> fixed = new ArrayList<>();
      for (JsonNode s : r.path("sessions")) fixed.add(new Session(s));
      List<Group> serverGroups = new ArrayList<>();
      Set<String> serverGroupIds = new HashSet<>();
      for (JsonNode g : r.path("groups")) {
        Group group = new Group(g);
        serverGroups.add(group);
        serverGroupIds.add(group.id());
      }
      List<String> goneGroups = new ArrayList<>();
      for (String id : groups.keySet()) if (!serverGroupIds.contains(id)) goneGroups.add(id);
      staging = null;
      applyBatch(new MirrorStore.Batch(false, fixed, drop, serverGroups, goneGroups, r.path("cursor").asText(), r.path("version").asLong()));
      listener.onRepair(n, mismatched.size(), fixed.size());
      if (!mismatched.isEmpty()) log(ClientListener.Level.WARN, "repair: " + mismatched.size() + " of " + n + " buckets differed", null);
      catchUp();
      if (r.path("unchecked").size() == 0) return;
      n = Math.min(Digests.MAX_BUCKETS, n * 2);
    }
  }

  private void scheduledRepair() {
    if (started && !closed && state.kind == ClientState.Kind.LIVE) connect();
  }

  private void goLive() {
    if (Instant.now().isBefore(longPollUntil)) {
      attempt = 0;
      setState(new ClientState(ClientState.Kind.LIVE, ClientState.Transport.LONG_POLL, null, null));
      poll(++generation);
      return;
    }
    int gen = ++generation;
    socketOpened = false;
    socket = api.stream(nextCursor(), new StreamListener(gen));
  }

  private final class StreamListener extends WebSocketListener {
    private final int gen;

    StreamListener(int gen) {
      this.gen = gen;
    }

    @Override
    public void onOpen(WebSocket ws, Response response) {
      onLoopAsync(() -> {
        if (gen != generation) return;
        socketOpened = true;
        streamFailures = 0;
        attempt = 0;
        setState(new ClientState(ClientState.Kind.LIVE, ClientState.Transport.STREAM, null, null));
      });
    }

    @Override
    public void onMessage(WebSocket ws, String text) {
      onLoopAsync(() -> {
        if (gen != generation) return;
        try {
          JsonNode frame = Json.parse(text);
          if (frame.has("error")) throw new ApiException(400, frame.path("error").path("code").asText(), frame.path("error").path("message").asText(), 0);
          SyncPage page = SyncPage.parse(frame);
          handlePage(page, ClientState.Transport.STREAM);
          // acknowledged once applied and stored: the server may count the device as caught up to it
          if (staging == null) ws.send(Json.write(Json.object().put("ack", page.cursor)));
        } catch (Exception e) {
          failed(e);
        }
      });
    }

    @Override
    public void onClosing(WebSocket ws, int code, String reason) {
      ws.close(1000, null);
      onLoopAsync(() -> {
        if (gen == generation) failed(new IOException("the stream was closed by the server (" + code + " " + reason + ")"));
      });
    }

    @Override
    public void onFailure(WebSocket ws, Throwable t, Response response) {
      onLoopAsync(() -> {
        if (gen != generation) return;
        if (!socketOpened && ++streamFailures >= streamFailuresBeforeLongPoll) {
          // HTTP got through just now but the stream does not: a proxy that drops WebSockets; long poll instead
          streamFailures = 0;
          longPollUntil = Instant.now().plus(longPollBeforeStreamAgain);
          log(ClientListener.Level.WARN, "the stream does not open: long polling for " + longPollBeforeStreamAgain, t);
        }
        failed(t instanceof Exception ? (Exception) t : new IOException(t));
      });
    }
  }

  /** One long poll, on the poller thread; its answer is applied on the loop. */
  private void poll(int gen) {
    String from = nextCursor();
    int waitMs = (int) Math.min(30_000, longPollWait.toMillis());
    poller.execute(() -> {
      try {
        SyncPage page = api.sync(from, pageLimit, waitMs, null);
        onLoopAsync(() -> {
          if (gen != generation) return;
          try {
            handlePage(page, ClientState.Transport.LONG_POLL);
            flushActions();
          } catch (Exception e) {
            failed(e);
            return;
          }
          if (page.hasMore || Instant.now().isBefore(longPollUntil)) poll(gen);
          else connect(); // time to try the stream again
        });
      } catch (Exception e) {
        onLoopAsync(() -> {
          if (gen == generation) failed(e);
        });
      }
    });
  }

  private void failed(Exception e) {
    if (closed) return;
    closeSocket();
    generation++;
    staging = null;
    attempt++;
    Duration delay = backoff.delay(attempt);
    boolean refused = e instanceof ApiException && !((ApiException) e).retryable();
    if (e instanceof ApiException && ((ApiException) e).retryAfterSeconds > 0) {
      delay = Duration.ofSeconds(Math.max(delay.getSeconds(), ((ApiException) e).retryAfterSeconds));
    }
    if (e instanceof ApiException && "invalid_cursor".equals(((ApiException) e).code)) {
      // the server cannot read our cursor (another account's, a foreign build): start over, the mirror stays on screen
      cursor = null;
      refused = false;
    }
    if (e instanceof SqliteStore.StoreException) refused = true;
    Instant next = Instant.now().plus(delay);
    setState(new ClientState(refused ? ClientState.Kind.ERROR : ClientState.Kind.OFFLINE, ClientState.Transport.NONE, next, String.valueOf(e.getMessage())));
    log(refused ? ClientListener.Level.ERROR : ClientListener.Level.INFO, "sync failed, next try in " + delay.toMillis() + " ms", e);
    if (retry != null) retry.cancel(false);
    retry = loop.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void closeSocket() {
    generation++;
    if (socket != null) {
      socket.cancel();
      socket = null;
    }
  }

  /** Sends the queued actions in order; stops at the first that may succeed later (and throws). */
  private void flushActions() throws IOException {
    while (!queue.isEmpty()) {
      PendingAction a = queue.get(0);
      try {
        JsonNode answer = send(a);
        if (answer != null) applyAnswer(answer);
        listener.onAction(a, true, null);
      } catch (ApiException e) {
        if (e.retryable()) throw e;
        listener.onAction(a, false, e.getMessage());
        log(ClientListener.Level.WARN, "action " + a + " refused: dropped", e);
      }
      store.remove(a.id);
      queue.remove(0);
      refresh();
    }
  }

  private JsonNode send(PendingAction a) throws IOException {
    String sid = a.sessionId;
    switch (a.type) {
      case READ:
        return api.action("read", "POST", ImsyncApi.path("v1", "sessions", sid, "read"), Json.object().put("seq", a.number));
      case UNREAD:
        return api.action("unread", "POST", ImsyncApi.path("v1", "sessions", sid, "unread"), Json.object());
      case BOX:
        return api.action("box", "PUT", ImsyncApi.path("v1", "sessions", sid, "box"), Json.object().put("box", a.text));
      case MUTE:
        return api.action("mute", "PUT", ImsyncApi.path("v1", "sessions", sid, "mute"), Json.object().put("until", a.number));
      case DRAFT:
        return api.action("draft", "PUT", ImsyncApi.path("v1", "sessions", sid, "draft"), Json.object().put("text", a.text));
      case PIN:
      case UNPIN: {
        // the pinned list as the server has it now plus this change: sending it again changes nothing
        Group g = groups.get(a.groupId);
        if (g == null) throw new ApiException(404, "not_found", "no group " + a.groupId + " in the mirror", 0);
        List<String> pinned = new ArrayList<>(g.pinned());
        boolean changed = a.type == PendingAction.Type.PIN ? !pinned.contains(sid) && pinned.add(sid) : pinned.remove(sid);
        if (!changed) return null;
        if (a.type == PendingAction.Type.PIN) {
          pinned.remove(sid);
          pinned.add(0, sid);
        }
        ObjectNode body = Json.object();
        ArrayNode list = body.putArray("sessions");
        pinned.forEach(list::add);
        return api.action("pinned", "PUT", ImsyncApi.path("v1", "groups", a.groupId, "pinned"), body);
      }
      default:
        throw new IllegalStateException(a.type.name());
    }
  }

  /** An action's answer carries the object after it: keep it (if newer) so the list does not flicker back. */
  private void applyAnswer(JsonNode answer) {
    List<Session> ss = new ArrayList<>();
    List<Group> gs = new ArrayList<>();
    if (answer.path("session").isObject()) {
      Session s = new Session(answer.get("session"));
      Session mine = sessions.get(s.id());
      if (mine != null && s.version() > mine.version()) ss.add(s);
    }
    if (answer.path("group").isObject()) {
      Group g = new Group(answer.get("group"));
      Group mine = groups.get(g.id());
      if (mine != null && g.version() > mine.version()) gs.add(g);
    }
    if (!ss.isEmpty() || !gs.isEmpty()) applyBatch(new MirrorStore.Batch(false, ss, List.of(), gs, List.of(), null, 0));
  }

  // ------------------------------------------------------------------ views and badges

  /** Recomputes every view and the badges from the mirror with the queue applied. */
  private void refresh() {
    Map<String, Session> es = effectiveSessions();
    Map<String, Group> eg = effectiveGroups();
    List<SessionListView> vs;
    synchronized (views) {
      vs = new ArrayList<>(views.values());
    }
    for (SessionListView v : vs) v.update(es, eg);
    Badges b = Badges.compute(es, inOrder(eg));
    if (!b.equals(badges)) {
      badges = b;
      listener.onBadges(b);
    }
  }

  /** The sessions as the user sees them: the server's, with the queued actions applied on top. */
  private Map<String, Session> effectiveSessions() {
    if (queue.isEmpty()) return sessions;
    Map<String, Session> out = new LinkedHashMap<>(sessions);
    for (PendingAction a : queue) {
      Session s = out.get(a.sessionId);
      if (s == null) continue;
      out.put(s.id(), Overlay.apply(a, s));
    }
    return out;
  }

  private Map<String, Group> effectiveGroups() {
    if (queue.isEmpty()) return groups;
    Map<String, Group> out = new LinkedHashMap<>(groups);
    for (PendingAction a : queue) Overlay.apply(a, out);
    return out;
  }

  static List<Group> inOrder(Map<String, Group> groups) {
    List<Group> out = new ArrayList<>(groups.values());
    out.sort(Comparator.comparingLong(Group::position).thenComparing(Group::id));
    return out;
  }

  // ------------------------------------------------------------------ plumbing

  private void setState(ClientState next) {
    ClientState prev = state;
    if (prev.kind == next.kind && prev.transport == next.transport && Objects.equals(prev.nextRetry, next.nextRetry)
        && Objects.equals(prev.detail, next.detail)) return;
    state = next;
    listener.onState(next);
  }

  private void log(ClientListener.Level level, String message, Throwable error) {
    listener.onLog(level, message, error);
  }

  private void onLoopAsync(Runnable r) {
    try {
      loop.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // the client is closed: late network callbacks have nothing left to update
    }
  }

  /** Runs {@code task} on the loop thread and waits for it (at once when already there). */
  private <T> T onLoop(Callable<T> task) {
    try {
      if (Thread.currentThread() == loopThread) return task.call();
      Future<T> f = loop.submit(task);
      return f.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Pages of a reset, held until the last one. */
  private static final class Staging {
    final Map<String, Session> sessions = new LinkedHashMap<>();
    final Map<String, Group> groups = new LinkedHashMap<>();
    String cursor;

    void apply(SyncPage p) {
      cursor = p.cursor;
      if (p.reset) {
        sessions.clear();
        groups.clear();
      }
      for (String id : p.removedSessions) sessions.remove(id);
      for (Session s : p.sessions) sessions.put(s.id(), s);
      for (String id : p.removedGroups) groups.remove(id);
      for (Group g : p.groups) groups.put(g.id(), g);
    }
  }
}
