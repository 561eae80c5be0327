package imsync.account;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.PostStop;
import akka.actor.typed.PreRestart;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.persistence.typed.javadsl.SignalHandler;
import akka.cluster.sharding.external.ExternalShardAllocationStrategy;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.SnapshotCompleted;
import akka.util.Timeout;
import akka.persistence.typed.SnapshotAdapter;
import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import akka.persistence.typed.javadsl.ReplyEffect;
import akka.persistence.typed.javadsl.RetentionCriteria;
import imsync.CborSerializable;
import imsync.Settings;
import imsync.core.AccountEvent;
import imsync.core.AccountSnapshot;
import imsync.core.AccountState;
import imsync.core.Cursor;
import imsync.core.CursorCodec;
import imsync.core.Decision;
import imsync.core.Device;
import imsync.core.EntriesPage;
import imsync.core.ErrorCode;
import imsync.core.Group;
import imsync.core.IngestItem;
import imsync.core.Session;
import imsync.core.SmartRule;
import imsync.core.VerifyPlanner;
import imsync.core.SyncPlanner;
import imsync.core.SyncResult;
import imsync.core.View;
import imsync.json.SyncJson;
import imsync.metrics.Metrics;
import imsync.metrics.ShardLoad;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * One account as an event-sourced, sharded actor. It only turns commands into events and replies: every
 * rule lives in {@link AccountState} (decisions, event application) and {@link SyncPlanner} (batches).
 * Replies are sent after the events are stored, so an acknowledged write is durable.
 */
public final class AccountEntity
    extends EventSourcedBehaviorWithEnforcedReplies<AccountEntity.Command, AccountEvent, AccountState> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "Account");

  // ------------------------------------------------------------------ protocol

  public sealed interface Command extends CborSerializable {}

  public record Ingest(List<IngestItem> items, ActorRef<Reply> replyTo) implements Command {}

  /**
   * cursor: the client's opaque string or null; decoded here, where the account id is known. waitMs > 0:
   * long poll. deviceId: whose progress the cursor acknowledges (null: record nothing, as for the stream,
   * whose acks come separately). maxBytes > 0: the answer's byte budget (API v1.1 {@code max_bytes}); 0: none.
   */
  public record Sync(String cursor, List<String> groups, int limit, int maxBytes, long waitMs, String deviceId,
                     ActorRef<Reply> replyTo)
      implements Command {}

  /** A stream client's acknowledgement of a cursor. */
  public record Ack(String cursor, String deviceId) implements Command {}

  public record GetDevices(ActorRef<Reply> replyTo) implements Command {}

  public record RemoveDevice(String deviceId, ActorRef<Reply> replyTo) implements Command {}

  /** Sharding's stop message: store pending device progress, answer waiters, then stop. */
  public enum Stop implements Command { INSTANCE }

  /** Timer: a long poll reached its deadline. */
  record WaitExpired(long waiterId) implements Command {}

  /** Timer: store device progress gathered in memory. */
  enum FlushDevices implements Command { INSTANCE }

  public record GetSession(String sessionId, ActorRef<Reply> replyTo) implements Command {}

  public record GetGroups(ActorRef<Reply> replyTo) implements Command {}

  public record GetEntries(String groupId, EntriesPage.Position after, int limit, ActorRef<Reply> replyTo) implements Command {}

  public record GetStats(ActorRef<Reply> replyTo) implements Command {}

  public record MarkRead(String sessionId, long seq, ActorRef<Reply> replyTo) implements Command {}

  public record MarkUnread(String sessionId, ActorRef<Reply> replyTo) implements Command {}

  public record SetDraft(String sessionId, String text, ActorRef<Reply> replyTo) implements Command {}

  public record SetMute(String sessionId, long until, ActorRef<Reply> replyTo) implements Command {}

  public record SetBox(String sessionId, String box, ActorRef<Reply> replyTo) implements Command {}

  public record DeleteSession(String sessionId, ActorRef<Reply> replyTo) implements Command {}

  /** groupId null: the account picks one. rule non-null: a smart folder. */
  public record CreateGroup(String groupId, String name, SmartRule rule, ActorRef<Reply> replyTo) implements Command {}

  /** name, position, rule null: unchanged. */
  public record PatchGroup(String groupId, String name, Integer position, SmartRule rule, ActorRef<Reply> replyTo) implements Command {}

  /** {@code POST /v1/sync/verify}: digests[b] is the client's digest of bucket b. */
  public record Verify(List<String> groups, long[] digests, int maxSessions, ActorRef<Reply> replyTo) implements Command {}

  public record DeleteGroup(String groupId, ActorRef<Reply> replyTo) implements Command {}

  public record AddMember(String groupId, String sessionId, ActorRef<Reply> replyTo) implements Command {}

  public record RemoveMember(String groupId, String sessionId, ActorRef<Reply> replyTo) implements Command {}

  public record AddMembers(String groupId, List<String> sessionIds, ActorRef<Reply> replyTo) implements Command {}

  public record SetPinned(String groupId, List<String> sessionIds, ActorRef<Reply> replyTo) implements Command {}

  /**
   * One page of everything the account holds (API v1.2 export): the entries from {@code offset} of its
   * sessions by id followed by its tombstones by session id, within {@link #EXPORT_PAGE_BYTES}; the first
   * page (offset 0) also carries the groups and devices. Pages after the first are only valid while the
   * account is at {@code incarnation}/{@code version} (the reply says where it is: the asker starts over
   * on a change). Paged so that no message between nodes comes near the remoting frame size.
   */
  public record ExportPage(long incarnation, long version, int offset, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Erases the account (API v1.2): answers {@link Erased} once nothing of it can be read back from the
   * store, {@link StorageUnavailable} when the store failed (the erasure is then complete for readers,
   * and the next Erase finishes removing the rows).
   */
  public record Erase(ActorRef<Reply> replyTo) implements Command {}

  /** The store's answer to the row removal an erasure started; failure null: done. */
  record ErasureStored(Throwable failure) implements Command {}

  public sealed interface Reply extends CborSerializable {}

  public record IngestReply(int accepted, int ignored) implements Reply {}

  public record SyncReply(String cursor, boolean hasMore, boolean reset, long version, List<Group> groups,
                          List<String> removedGroups, List<Session> sessions, List<String> removedSessions) implements Reply {
    /** Nothing for the client (see {@link SyncResult#isEmpty()}). */
    public boolean isEmpty() {
      return !hasMore && !reset && groups.isEmpty() && removedGroups.isEmpty() && sessions.isEmpty() && removedSessions.isEmpty();
    }
  }

  public record SessionReply(Session session, long version) implements Reply {}

  /** The mismatched buckets that fit the count limit (the route may move more to unchecked for max_bytes). */
  public record VerifyReply(long version, String cursor, List<Group> groups, List<VerifyPlanner.Bucket> buckets,
                            List<Integer> unchecked) implements Reply {}

  public record SessionRemovedReply(String sessionId, long version) implements Reply {}

  public record GroupReply(Group group, long version) implements Reply {}

  public record GroupRemovedReply(String groupId, long version) implements Reply {}

  public record MemberReply(Session session, Group group, long version) implements Reply {}

  public record MembersAddedReply(Group group, int added, long version) implements Reply {}

  public record GroupsReply(List<Group> groups, long version) implements Reply {}

  public record EntriesReply(List<EntriesPage.Entry> entries, EntriesPage.Position next, long version) implements Reply {}

  /** What operators see of an account; {@code node}: the cluster member it lives on. */
  public record StatsReply(long version, int sessions, int groups, int devices, int removedSessions, long eventsSinceSnapshot,
                           String node, long lastSequenceNr) implements Reply {}

  public record DevicesReply(List<Device> devices, long version) implements Reply {}

  public record DeviceRemovedReply(String deviceId, long version) implements Reply {}

  public record Rejected(ErrorCode code, String message) implements Reply {}

  /** The store failed or timed out: the caller may retry (HTTP 503). */
  public record StorageUnavailable(String message) implements Reply {}

  public record RemovedSession(String sessionId, long removedAt) {}

  /**
   * A page of the account's export at {@code incarnation}/{@code version}: sessions whole, by id, then
   * tombstones by session id; groups (in order) and devices (by id) on the first page only. {@code next}:
   * the offset of the next page, -1 after the last.
   */
  public record ExportPageReply(long incarnation, long version, List<Group> groups, List<Device> devices, List<Session> sessions,
                                List<RemovedSession> removedSessions, int next) implements Reply {}

  /** An export page's JSON size budget: far below the 256 KiB remoting frame (one session larger goes alone). */
  static final int EXPORT_PAGE_BYTES = 128 * 1024;
  static final int EXPORT_PAGE_ENTRIES = 1000;

  /** {@code events}: journal events removed (0: nothing was stored since the last erasure, or ever). */
  public record Erased(long events) implements Reply {}

  // ------------------------------------------------------------------ wiring

  public static void init(ActorSystem<?> system, Settings settings) {
    CursorCodec codec = new CursorCodec(settings.cursorSecret());
    // Shards go where the ShardBalancer (or an operator) writes them: Akka's external shard allocation.
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), settings, codec))
        .withStopMessage(Stop.INSTANCE)
        .withAllocationStrategy(new ExternalShardAllocationStrategy(system, TYPE_KEY.name(), Timeout.create(Duration.ofSeconds(5)))));
  }

  public static Behavior<Command> create(String accountId, Settings settings, CursorCodec codec) {
    return Behaviors.withTimers(timers -> Behaviors.setup(ctx ->
        new AccountEntity(ctx, timers, accountId, settings, codec, Metrics.get(ctx.getSystem()))));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final String accountId;
  private final Settings settings;
  private final CursorCodec codec;
  private final Metrics metrics;
  /** This account's shard's request and ingest rates on this node. */
  private final ShardLoad.Counters load;
  /** When this incarnation started recovering (recovery time metric). */
  private long startedNanos = System.nanoTime();
  /** When the write in flight was handed to the journal; one at a time (commands wait while it is stored). */
  private long writeStartedNanos;

  /** Long polls waiting for a change, by id; transient: answered (empty batch) when the entity stops. */
  private final Map<Long, Waiter> waiters = new HashMap<>();
  private long nextWaiterId;
  /**
   * Device sightings not yet stored. A new device or a new acked version is stored within
   * {@code DEVICE_FLUSH}; a later sighting alone only once the stored one is {@code DEVICE_SEEN_PRECISION_MS}
   * old, so an account that syncs all the time does not write a journal row every few seconds for it.
   */
  private final Map<String, Device> pendingDevices = new HashMap<>();

  /** Until RecoveryCompleted: counts the events replayed on top of the snapshot. */
  private boolean recovering = true;
  private long replayedEvents;
  /** Sequence number of the latest snapshot (loaded or taken since). */
  private long snapshotSequenceNr;
  /** Sessions and tombstones in export order, for the incarnation and version they were sorted at (null: none yet). */
  private ExportOrder exportOrder;

  private record ExportOrder(long incarnation, long version, List<Session> sessions, List<RemovedSession> removed) {}

  /** An erasure whose row removal is in flight: every other command waits (stashed) until it is done. */
  private PendingErasure erasing;

  private record PendingErasure(ActorRef<Reply> replyTo, long events) {}

  private record Waiter(View view, Cursor cursor, int limit, int maxBytes, ActorRef<Reply> replyTo) {}

  static final Duration DEVICE_FLUSH = Duration.ofSeconds(5);
  static final long DEVICE_SEEN_PRECISION_MS = 300_000;

  private AccountEntity(ActorContext<Command> ctx, TimerScheduler<Command> timers, String accountId, Settings settings,
                        CursorCodec codec, Metrics metrics) {
    super(PersistenceId.of(TYPE_KEY.name(), accountId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    this.ctx = ctx;
    this.timers = timers;
    this.accountId = accountId;
    this.settings = settings;
    this.codec = codec;
    this.metrics = metrics;
    this.load = metrics.shardLoad().forAccount(accountId);
  }

  @Override
  public AccountState emptyState() {
    return AccountState.template(settings.limits());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    var criteria = RetentionCriteria.snapshotEvery(settings.snapshotEvery(), settings.snapshotsKept());
    return settings.deleteEventsOnSnapshot() ? criteria.withDeleteEventsOnSnapshot() : criteria;
  }

  /** The state is mutable; the snapshot store gets an immutable copy made on the entity's own thread. */
  @Override
  public SnapshotAdapter<AccountState> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(AccountState state) {
        return state.toSnapshot();
      }

      @Override
      public AccountState fromJournal(Object from) {
        return AccountState.fromSnapshot((AccountSnapshot) from, settings.limits());
      }
    };
  }

  /** Snapshot at rest (see {@link AccountEvent.Passivated}), besides the retention criteria's every n events. */
  @Override
  public boolean shouldSnapshot(AccountState state, AccountEvent event, long sequenceNr) {
    return event instanceof AccountEvent.Passivated;
  }

  /** Events stored after the latest snapshot: what the next recovery would replay. */
  long eventsSinceSnapshot() {
    return lastSequenceNumber(ctx) - snapshotSequenceNr;
  }

  @Override
  public EventHandler<AccountState, AccountEvent> eventHandler() {
    return (state, event) -> {
      if (recovering) replayedEvents++;
      exportOrder = null;
      // the marker of an erasure: what came before is void (even if a crash left some of it in the store)
      if (event instanceof AccountEvent.Erased e) return AccountState.erased(settings.limits(), e);
      AccountState s = state.isTemplate() ? new AccountState(settings.limits()) : state;
      s.apply(event);
      return s;
    };
  }

  @Override
  public CommandHandlerWithReply<Command, AccountEvent, AccountState> commandHandler() {
    CommandHandlerWithReply<Command, AccountEvent, AccountState> handler = handlers();
    return (state, command) -> {
      // an erasure is serialized with everything else: what arrives meanwhile runs after it, on the new account
      if (erasing != null && !(command instanceof ErasureStored)) return Effect().stash();
      countLoad(command);
      return handler.apply(state, command);
    };
  }

  /** The shard's load on this node: ingest deliveries, and every other command from outside. */
  private void countLoad(Command command) {
    if (command instanceof Ingest i) load.ingest(i.items().size());
    else if (!(command instanceof WaitExpired || command instanceof FlushDevices || command instanceof Stop
        || command instanceof ErasureStored)) load.request();
  }

  private CommandHandlerWithReply<Command, AccountEvent, AccountState> handlers() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Ingest.class, this::onIngest)
        .onCommand(Sync.class, this::onSync)
        .onCommand(WaitExpired.class, this::onWaitExpired)
        .onCommand(Ack.class, this::onAck)
        .onCommand(FlushDevices.class, (st, c) -> flushDevices())
        .onCommand(GetDevices.class, this::onGetDevices)
        .onCommand(RemoveDevice.class, this::onRemoveDevice)
        .onCommand(Stop.class, (st, c) -> {
          answerAllWaiters(st);
          // after changes, rest with a snapshot (shouldSnapshot): the next start reads it and replays nothing
          List<AccountEvent> last = new ArrayList<>(2);
          if (!pendingDevices.isEmpty()) last.add(drainDevices());
          if (!last.isEmpty() || eventsSinceSnapshot() > 0) last.add(new AccountEvent.Passivated(now()));
          if (last.isEmpty()) return Effect().stop().thenNoReply();
          return Effect().persist(last).thenStop().thenNoReply();
        })
        .onCommand(GetSession.class, (st, c) -> {
          Session s = st.session(c.sessionId());
          return Effect().reply(c.replyTo(), s == null
              ? new Rejected(ErrorCode.NOT_FOUND, "session \"" + c.sessionId() + "\" not found")
              : new SessionReply(s, st.version()));
        })
        .onCommand(GetGroups.class, (st, c) -> Effect().reply(c.replyTo(), new GroupsReply(st.groupsInOrder(), st.version())))
        .onCommand(GetEntries.class, this::onEntries)
        .onCommand(GetStats.class, (st, c) -> Effect().reply(c.replyTo(), new StatsReply(st.version(), st.sessionCount(),
            st.groupCount(), currentDevices(st).size(), st.tombstoneCount(), eventsSinceSnapshot(),
            ctx.getSystem().address().toString(), lastSequenceNumber(ctx))))
        .onCommand(MarkRead.class, (st, c) -> sessionAction(st.decideRead(c.sessionId(), c.seq(), now()), c.sessionId(), c.replyTo()))
        .onCommand(MarkUnread.class, (st, c) -> sessionAction(st.decideMarkUnread(c.sessionId(), now()), c.sessionId(), c.replyTo()))
        .onCommand(SetDraft.class, (st, c) -> sessionAction(st.decideDraft(c.sessionId(), c.text(), now()), c.sessionId(), c.replyTo()))
        .onCommand(SetMute.class, (st, c) -> sessionAction(st.decideMute(c.sessionId(), c.until(), now()), c.sessionId(), c.replyTo()))
        .onCommand(SetBox.class, (st, c) -> sessionAction(st.decideBox(c.sessionId(), c.box(), now()), c.sessionId(), c.replyTo()))
        .onCommand(DeleteSession.class, (st, c) -> decided(st.decideDeleteSession(c.sessionId(), now()), c.replyTo(),
            s -> new SessionRemovedReply(c.sessionId(), s.version())))
        .onCommand(CreateGroup.class, this::onCreateGroup)
        .onCommand(PatchGroup.class, (st, c) -> groupAction(st.decidePatchGroup(c.groupId(), c.name(), c.position(), c.rule(), now()), c.groupId(), c.replyTo()))
        .onCommand(Verify.class, this::onVerify)
        .onCommand(DeleteGroup.class, (st, c) -> decided(st.decideDeleteGroup(c.groupId(), now()), c.replyTo(),
            s -> new GroupRemovedReply(c.groupId(), s.version())))
        .onCommand(AddMember.class, (st, c) -> memberAction(st.decideAddMember(c.groupId(), c.sessionId(), now()), c.groupId(), c.sessionId(), c.replyTo()))
        .onCommand(AddMembers.class, (st, c) -> {
          Decision d = st.decideAddMembers(c.groupId(), c.sessionIds(), now());
          int added = d instanceof Decision.Accept a ? a.events().size() : 0;
          return decided(d, c.replyTo(), s -> new MembersAddedReply(s.group(c.groupId()), added, s.version()));
        })
        .onCommand(RemoveMember.class, (st, c) -> memberAction(st.decideRemoveMember(c.groupId(), c.sessionId(), now()), c.groupId(), c.sessionId(), c.replyTo()))
        .onCommand(SetPinned.class, (st, c) -> groupAction(st.decideSetPinned(c.groupId(), c.sessionIds(), now()), c.groupId(), c.replyTo()))
        .onCommand(ExportPage.class, this::onExportPage)
        .onCommand(Erase.class, this::onErase)
        .onCommand(ErasureStored.class, this::onErasureStored)
        .build();
  }

  private ReplyEffect<AccountEvent, AccountState> onIngest(AccountState st, Ingest c) {
    AccountState.IngestDecision d = st.decideIngest(accountId, c.items());
    int accepted = d.events().size();
    metrics.ingested(accepted, d.ignored());
    if (accepted == 0) return Effect().reply(c.replyTo(), new IngestReply(0, d.ignored()));
    // One journal row for the whole batch of this account.
    return persistChange(AccountEvent.Batch.of(d.events()))
        .thenReply(c.replyTo(), s -> new IngestReply(accepted, d.ignored()));
  }

  private ReplyEffect<AccountEvent, AccountState> onSync(AccountState st, Sync c) {
    Cursor cursor = null;
    long cursorIncarnation = st.incarnation();
    if (c.cursor() != null) {
      try {
        CursorCodec.Issued issued = codec.read(accountId, c.cursor());
        cursor = issued.cursor();
        cursorIncarnation = issued.incarnation();
      } catch (CursorCodec.InvalidCursorException e) {
        return Effect().reply(c.replyTo(), new Rejected(ErrorCode.INVALID_CURSOR, e.getMessage()));
      }
    }
    if (c.groups() != null) {
      for (String gid : c.groups()) {
        if (st.group(gid) == null) {
          return Effect().reply(c.replyTo(), new Rejected(ErrorCode.NOT_FOUND, "groups: group \"" + gid + "\" not found"));
        }
      }
    }
    if (c.deviceId() != null) noteDevice(st, c.deviceId(), cursorIncarnation == st.incarnation() ? cursor : null);
    View view = new View(c.groups());
    SyncResult r = plan(st, view, cursor, cursorIncarnation, c.limit(), c.maxBytes());
    if (r.isEmpty() && c.waitMs() > 0) {
      // Long poll: kept until a change reaches this view (wakeWaiters) or the deadline (a timer per waiter).
      // An empty answer means the cursor is of this incarnation (another one resets).
      long id = nextWaiterId++;
      waiters.put(id, new Waiter(view, cursor, c.limit(), c.maxBytes(), c.replyTo()));
      metrics.longPolls(1);
      timers.startSingleTimer(new WaitExpired(id), new WaitExpired(id), Duration.ofMillis(c.waitMs()));
      return Effect().noReply();
    }
    return Effect().reply(c.replyTo(), syncReply(st, r));
  }

  /** A batch within {@code limit} and, when {@code maxBytes > 0}, within that many bytes as the writer sends it. */
  private static SyncResult plan(AccountState st, View view, Cursor cursor, int limit, int maxBytes) {
    return SyncPlanner.plan(st, view, cursor, limit, maxBytes, SyncJson.SIZES);
  }

  /** As above for a cursor issued in {@code cursorIncarnation}: one from before an erasure resets. */
  private static SyncResult plan(AccountState st, View view, Cursor cursor, long cursorIncarnation, int limit, int maxBytes) {
    return SyncPlanner.plan(st, view, cursor, cursorIncarnation, limit, maxBytes, SyncJson.SIZES);
  }

  private SyncReply syncReply(AccountState st, SyncResult r) {
    metrics.syncAnswered(r.sessions().size());
    return new SyncReply(codec.encode(accountId, st.incarnation(), r.cursor()), r.hasMore(), r.reset(), r.version(),
        r.groups(), r.removedGroups(), r.sessions(), r.removedSessions());
  }

  /** After every stored change: answer the long polls whose view it reached. O(k log n) per waiter. */
  private void wakeWaiters(AccountState st) {
    if (waiters.isEmpty()) return;
    var it = waiters.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      Waiter w = e.getValue();
      SyncResult r = plan(st, w.view(), w.cursor(), w.limit(), w.maxBytes());
      if (!r.isEmpty()) {
        timers.cancel(new WaitExpired(e.getKey()));
        w.replyTo().tell(syncReply(st, r));
        it.remove();
        metrics.longPolls(-1);
      }
    }
  }

  private ReplyEffect<AccountEvent, AccountState> onWaitExpired(AccountState st, WaitExpired c) {
    Waiter w = waiters.remove(c.waiterId());
    if (w != null) metrics.longPolls(-1);
    if (w != null) w.replyTo().tell(syncReply(st, plan(st, w.view(), w.cursor(), w.limit(), w.maxBytes())));
    return Effect().noReply();
  }

  /** Answers every waiter with what it would get now (an empty batch and a cursor as good as its own). */
  private void answerAllWaiters(AccountState st) {
    for (Waiter w : waiters.values()) w.replyTo().tell(syncReply(st, plan(st, w.view(), w.cursor(), w.limit(), w.maxBytes())));
    metrics.longPolls(-waiters.size());
    waiters.clear();
  }

  private ReplyEffect<AccountEvent, AccountState> onAck(AccountState st, Ack c) {
    try {
      CursorCodec.Issued issued = codec.read(accountId, c.cursor());
      noteDevice(st, c.deviceId(), issued.incarnation() == st.incarnation() ? issued.cursor() : null);
    } catch (CursorCodec.InvalidCursorException e) {
      ctx.getLog().debug("ignoring an ack with an invalid cursor from device {}", c.deviceId());
    }
    return Effect().noReply();
  }

  /**
   * Records a device's sighting and acknowledged version in memory; a timer stores it within
   * {@link #DEVICE_FLUSH}, so syncing does not cost a journal write each time.
   */
  private void noteDevice(AccountState st, String deviceId, Cursor cursor) {
    long now = now();
    long acked = cursor == null ? 0 : Math.max(0, cursor.groupsVersion());
    Device seen = new Device(deviceId, now, now, acked);
    Device stored = st.device(deviceId);
    Device known = pendingDevices.getOrDefault(deviceId, stored);
    Device latest = known == null ? seen : known.merge(seen);
    pendingDevices.put(deviceId, latest);
    if (worthStoring(stored, latest) && !timers.isTimerActive(FlushDevices.INSTANCE)) {
      timers.startSingleTimer(FlushDevices.INSTANCE, DEVICE_FLUSH);
    }
  }

  /** Whether a sighting changes what the journal should hold: pruning reads acked versions, operators last sightings. */
  static boolean worthStoring(Device stored, Device seen) {
    return stored == null || stored.ackedVersion() != seen.ackedVersion()
        || seen.lastSeenAt() - stored.lastSeenAt() >= DEVICE_SEEN_PRECISION_MS;
  }

  private ReplyEffect<AccountEvent, AccountState> flushDevices() {
    if (pendingDevices.isEmpty()) return Effect().noReply();
    return Effect().persist(drainDevices()).thenNoReply();
  }

  private AccountEvent drainDevices() {
    AccountEvent e = new AccountEvent.DevicesProgressed(List.copyOf(pendingDevices.values()), now());
    pendingDevices.clear();
    return e;
  }

  private List<Device> currentDevices(AccountState st) {
    Map<String, Device> all = new TreeMap<>();
    for (Device d : st.devices()) all.put(d.deviceId(), d);
    pendingDevices.forEach((id, d) -> all.merge(id, d, Device::merge));
    return List.copyOf(all.values());
  }

  private ReplyEffect<AccountEvent, AccountState> onGetDevices(AccountState st, GetDevices c) {
    return Effect().reply(c.replyTo(), new DevicesReply(currentDevices(st), st.version()));
  }

  private ReplyEffect<AccountEvent, AccountState> onRemoveDevice(AccountState st, RemoveDevice c) {
    boolean known = st.device(c.deviceId()) != null || pendingDevices.containsKey(c.deviceId());
    if (!known) return Effect().reply(c.replyTo(), new Rejected(ErrorCode.NOT_FOUND, "device \"" + c.deviceId() + "\" not found"));
    pendingDevices.remove(c.deviceId());
    if (st.device(c.deviceId()) == null) return Effect().reply(c.replyTo(), new DeviceRemovedReply(c.deviceId(), st.version()));
    return Effect().persist(new AccountEvent.DeviceRemoved(c.deviceId(), now()))
        .thenReply(c.replyTo(), s -> new DeviceRemovedReply(c.deviceId(), s.version()));
  }

  /** A stopped or restarted entity answers its long polls instead of leaving them to time out. */
  @Override
  public SignalHandler<AccountState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(PostStop.instance(), this::answerAllWaiters)
        .onSignal(PreRestart.instance(), st -> {
          answerAllWaiters(st);
          startedNanos = System.nanoTime();
          recovering = true;
          replayedEvents = 0;
        })
        .onSignal(RecoveryCompleted.instance(), st -> {
          metrics.recovered(System.nanoTime() - startedNanos);
          recovering = false;
          snapshotSequenceNr = lastSequenceNumber(ctx) - replayedEvents;
          if (replayedEvents > 0) ctx.getLog().debug("recovered {} replaying {} events", accountId, replayedEvents);
        })
        .onSignal(SnapshotCompleted.class, (st, sig) -> snapshotSequenceNr = Math.max(snapshotSequenceNr, sig.metadata().sequenceNr()))
        .build();
  }

  private ReplyEffect<AccountEvent, AccountState> onEntries(AccountState st, GetEntries c) {
    Group g = st.group(c.groupId());
    if (g == null) return Effect().reply(c.replyTo(), new Rejected(ErrorCode.NOT_FOUND, "group \"" + c.groupId() + "\" not found"));
    EntriesPage page = st.mappingList(c.groupId()).page(g.pinned(), c.after(), c.limit(), st::session);
    return Effect().reply(c.replyTo(), new EntriesReply(page.entries(), page.next(), st.version()));
  }

  private ReplyEffect<AccountEvent, AccountState> onVerify(AccountState st, Verify c) {
    if (c.groups() != null) {
      for (String gid : c.groups()) {
        if (st.group(gid) == null) {
          return Effect().reply(c.replyTo(), new Rejected(ErrorCode.NOT_FOUND, "groups: group \"" + gid + "\" not found"));
        }
      }
    }
    VerifyPlanner.Result r = VerifyPlanner.verify(st, new View(c.groups()), c.digests(), c.maxSessions());
    return Effect().reply(c.replyTo(), new VerifyReply(r.version(), codec.encode(accountId, st.incarnation(), r.cursor()), r.groups(), r.buckets(),
        r.unchecked()));
  }

  private ReplyEffect<AccountEvent, AccountState> onCreateGroup(AccountState st, CreateGroup c) {
    Decision d = st.decideCreateGroup(c.groupId(), c.name(), c.rule(), now());
    String id = c.groupId();
    if (d instanceof Decision.Accept a) {
      id = a.events().get(0) instanceof AccountEvent.SmartGroupCreated s ? s.groupId() : ((AccountEvent.GroupCreated) a.events().get(0)).groupId();
    }
    return groupAction(d, id, c.replyTo());
  }

  private ReplyEffect<AccountEvent, AccountState> sessionAction(Decision d, String sid, ActorRef<Reply> replyTo) {
    return decided(d, replyTo, s -> new SessionReply(s.session(sid), s.version()));
  }

  private ReplyEffect<AccountEvent, AccountState> groupAction(Decision d, String gid, ActorRef<Reply> replyTo) {
    return decided(d, replyTo, s -> new GroupReply(s.group(gid), s.version()));
  }

  private ReplyEffect<AccountEvent, AccountState> memberAction(Decision d, String gid, String sid, ActorRef<Reply> replyTo) {
    return decided(d, replyTo, s -> new MemberReply(s.session(sid), s.group(gid), s.version()));
  }

  /** Reject: error reply. Unchanged: reply from the current state. Accept: persist, then reply. */
  private ReplyEffect<AccountEvent, AccountState> decided(Decision d, ActorRef<Reply> replyTo,
                                                         Function<AccountState, Reply> reply) {
    if (d instanceof Decision.Reject r) return Effect().reply(replyTo, new Rejected(r.code(), r.message()));
    if (d instanceof Decision.Accept a) {
      return persistChange(AccountEvent.Batch.of(a.events())).thenReply(replyTo, reply::apply);
    }
    return Effect().none().thenReply(replyTo, reply::apply);
  }

  // ------------------------------------------------------------------ data lifecycle (API v1.2)

  private ReplyEffect<AccountEvent, AccountState> onExportPage(AccountState st, ExportPage c) {
    boolean first = c.offset() == 0;
    if (!first && (c.incarnation() != st.incarnation() || c.version() != st.version())) {
      // the account changed since the first page: say where it is now, the asker starts over
      return Effect().reply(c.replyTo(), new ExportPageReply(st.incarnation(), st.version(), List.of(), List.of(), List.of(), List.of(), -1));
    }
    ExportOrder order = exportOrder(st);
    List<Session> sessions = new ArrayList<>();
    List<RemovedSession> removed = new ArrayList<>();
    int total = order.sessions().size() + order.removed().size();
    int at = Math.max(0, c.offset());
    long bytes = 0;
    while (at < total && sessions.size() + removed.size() < EXPORT_PAGE_ENTRIES) {
      long size;
      if (at < order.sessions().size()) {
        Session s = order.sessions().get(at);
        size = SyncJson.SIZES.sessionBytes(s);
        if (bytes > 0 && bytes + size > EXPORT_PAGE_BYTES) break;
        sessions.add(s);
      } else {
        RemovedSession r = order.removed().get(at - order.sessions().size());
        size = SyncJson.SIZES.idBytes(r.sessionId()) + 32;
        if (bytes > 0 && bytes + size > EXPORT_PAGE_BYTES) break;
        removed.add(r);
      }
      bytes += size;
      at++;
    }
    return Effect().reply(c.replyTo(), new ExportPageReply(st.incarnation(), st.version(),
        first ? st.groupsInOrder() : List.of(), first ? currentDevices(st) : List.of(), sessions, removed, at < total ? at : -1));
  }

  /** Sorted once per version (an export of a large account takes many pages of the same order). */
  private ExportOrder exportOrder(AccountState st) {
    if (exportOrder != null && exportOrder.incarnation() == st.incarnation() && exportOrder.version() == st.version()) return exportOrder;
    List<Session> sessions = new ArrayList<>(st.sessions());
    sessions.sort(java.util.Comparator.comparing(Session::sessionId));
    List<RemovedSession> removed = new ArrayList<>(st.tombstoneCount());
    for (imsync.core.Tombstone t : st.tombstones()) removed.add(new RemovedSession(t.sessionId(), t.removedAt()));
    removed.sort(java.util.Comparator.comparing(RemovedSession::sessionId));
    exportOrder = new ExportOrder(st.incarnation(), st.version(), List.copyOf(sessions), List.copyOf(removed));
    return exportOrder;
  }

  /**
   * Erasure: first the marker event (from then on no replay, restart or late message can bring the old
   * account back: everything before the marker is void), then the rows before it are removed and read
   * back until none is left; commands wait meanwhile, and the answer comes once the store is clean.
   * Nothing stored since the last erasure (or ever): no new marker, but the earlier erasure's removal is
   * run again, so a retry after a failed or cut-off erasure finishes it.
   */
  private ReplyEffect<AccountEvent, AccountState> onErase(AccountState st, Erase c) {
    answerAllWaiters(st);
    pendingDevices.clear();
    exportOrder = null;
    long last = lastSequenceNumber(ctx);
    // this incarnation's events: those after its marker (whose sequence number is the incarnation)
    long events = last - st.incarnation();
    if (events == 0) {
      if (st.incarnation() == 0) return Effect().reply(c.replyTo(), new Erased(0));
      removeRowsBefore(st.incarnation(), c.replyTo(), 0);
      return Effect().noReply();
    }
    long marker = last + 1;
    return Effect().persist(new AccountEvent.Erased(marker, now()))
        .thenRun(s -> removeRowsBefore(marker, c.replyTo(), events))
        .thenNoReply();
  }

  private void removeRowsBefore(long marker, ActorRef<Reply> replyTo, long events) {
    erasing = new PendingErasure(replyTo, events);
    java.util.concurrent.CompletionStage<akka.Done> removed;
    try {
      removed = imsync.storage.AccountErasure.get(ctx.getSystem()).removeBefore(persistenceId().id(), marker);
    } catch (RuntimeException e) { // the stores could not be reached at all: answered like a failed removal
      removed = java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    ctx.pipeToSelf(removed, (done, failure) -> new ErasureStored(failure));
  }

  private ReplyEffect<AccountEvent, AccountState> onErasureStored(AccountState st, ErasureStored c) {
    PendingErasure e = erasing;
    erasing = null;
    if (e == null) return Effect().noReply();
    if (c.failure() != null) {
      ctx.getLog().warn("erasure of {}: rows before the marker not all removed yet: {}", accountId, c.failure().toString());
      return Effect().reply(e.replyTo(), new StorageUnavailable("the store did not confirm the erasure; retry")).thenUnstashAll();
    }
    return Effect().reply(e.replyTo(), new Erased(e.events())).thenUnstashAll();
  }

  /** Stores a change; once stored: the journal write time, then the long polls it reaches. */
  private akka.persistence.typed.javadsl.EffectBuilder<AccountEvent, AccountState> persistChange(AccountEvent event) {
    writeStartedNanos = System.nanoTime();
    return Effect().persist(event).thenRun(this::afterWrite);
  }

  private void afterWrite(AccountState st) {
    metrics.journalWritten(System.nanoTime() - writeStartedNanos);
    wakeWaiters(st);
  }

  private static long now() {
    return System.currentTimeMillis();
  }
}
