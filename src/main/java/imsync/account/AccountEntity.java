package imsync.account;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.PostStop;
import akka.actor.typed.PreRestart;
import akka.actor.typed.javadsl.Behaviors;
import akka.persistence.typed.javadsl.SignalHandler;
import akka.cluster.sharding.external.ExternalShardAllocationStrategy;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.RecoveryFailed;
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
import imsync.storage.EventRetention;
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

  /** Sharding's stop message: answer waiters, rest with a snapshot when there is something to rest, stop (see onStop). */
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
    ClusterSharding.get(system).init(entity(system, settings, new CursorCodec(settings.cursorSecret())));
  }

  /** The sharded entity type: stopped with {@link Stop}; shards go where the ShardBalancer (or an operator) writes them. */
  static Entity<Command, ShardingEnvelope<Command>> entity(ActorSystem<?> system, Settings settings, CursorCodec codec) {
    return Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), settings, codec))
        .withStopMessage(Stop.INSTANCE)
        .withAllocationStrategy(new ExternalShardAllocationStrategy(system, TYPE_KEY.name(), Timeout.create(Duration.ofSeconds(5))));
  }

  public static Behavior<Command> create(String accountId, Settings settings, CursorCodec codec) {
    // no Behaviors.withTimers: its interceptor and timer tables cost every entity ~150 B; the two timers
    // this entity needs are plain scheduleOnce tasks (see WaitExpired, FlushDevices)
    return Behaviors.setup(ctx -> new AccountEntity(ctx, accountId, settings, codec, Metrics.get(ctx.getSystem())));
  }

  private final ActorContext<Command> ctx;
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
  private Map<Long, Waiter> waiters = Map.of();
  private long nextWaiterId;
  /**
   * Device sightings not yet stored. A new device or a new acked version is stored within
   * {@code DEVICE_FLUSH}; a later sighting alone only once the stored one is {@code DEVICE_SEEN_PRECISION_MS}
   * old, so an account that syncs all the time does not write a journal row every few seconds for it.
   */
  private Map<String, Device> pendingDevices = Map.of();

  /**
   * Sharding asked this account to stop ({@link #onStop}); kept across a restart after a failed write, since
   * this object outlives the restart (Akka restarts the behaviour it builds, not this factory).
   */
  private boolean stopping;
  /** The resting write of a stop failed: the next stop gives up on it. */
  private boolean stopWriteFailed;

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

  private static final class Waiter {
    final View view;
    final Cursor cursor;
    final int limit;
    final int maxBytes;
    final ActorRef<Reply> replyTo;
    /** Its deadline's WaitExpired; a late one for an answered waiter finds nothing and does nothing. */
    akka.actor.Cancellable expiry;

    Waiter(View view, Cursor cursor, int limit, int maxBytes, ActorRef<Reply> replyTo) {
      this.view = view;
      this.cursor = cursor;
      this.limit = limit;
      this.maxBytes = maxBytes;
      this.replyTo = replyTo;
    }

    View view() {
      return view;
    }

    Cursor cursor() {
      return cursor;
    }

    int limit() {
      return limit;
    }

    int maxBytes() {
      return maxBytes;
    }

    ActorRef<Reply> replyTo() {
      return replyTo;
    }
  }

  /** A FlushDevices is on its way (at most one at a time). */
  private boolean flushScheduled;

  static final Duration DEVICE_FLUSH = Duration.ofSeconds(5);
  static final long DEVICE_SEEN_PRECISION_MS = 300_000;

  /**
   * Shared by every entity: a strategy per entity was five objects (~150 B) on each one's heap. Its own log
   * is at DEBUG: when Cassandra is slow or down, every account in memory fails its calls and retries every
   * few seconds, and a stack trace per failure (193,000 in ten minutes of an overloaded bench) costs the CPU
   * the node needs to recover; restarts are counted instead (imsync.account.restarts) and summed in the log
   * at most every 10 s (see {@link #noteRestart}).
   */
  private static final akka.actor.typed.BackoffSupervisorStrategy ON_PERSIST_FAILURE =
      SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2)
          .withLogLevel(org.slf4j.event.Level.DEBUG);

  private static final java.util.concurrent.atomic.AtomicLong RESTARTS = new java.util.concurrent.atomic.AtomicLong();
  private static final java.util.concurrent.atomic.AtomicLong RESTARTS_LOGGED_AT = new java.util.concurrent.atomic.AtomicLong();
  /** The latest recovery failure's cause, one line, for the summed log line (the supervisor's own log is at DEBUG). */
  private static volatile String lastRecoveryFailure = "";

  /** A failure and its causes on one line, at most 400 characters. */
  static String causes(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null && b.length() < 400; c = c.getCause() == c ? null : c.getCause()) {
      if (b.length() > 0) b.append(" <- ");
      String name = c.getClass().getSimpleName();
      b.append(name.isEmpty() ? c.getClass().getName() : name).append(": ").append(String.valueOf(c.getMessage()).replace('\n', ' '));
    }
    return b.length() <= 400 ? b.toString() : b.substring(0, 400) + "...";
  }

  /** Counts a restart; logs how many happened since the last line, at most every 10 s for the whole node. */
  private void noteRestart() {
    metrics.accountRestarted();
    RESTARTS.incrementAndGet();
    long now = System.nanoTime();
    long last = RESTARTS_LOGGED_AT.get();
    if (now - last > 10_000_000_000L && RESTARTS_LOGGED_AT.compareAndSet(last, now)) {
      ctx.getLog().warn("{} account restarts after failed journal or snapshot calls since the last such line (latest: {}{}); "
          + "see the cassandra.* and imsync.account.restarts metrics", RESTARTS.getAndSet(0), accountId, lastRecoveryFailure);
    }
  }

  private AccountEntity(ActorContext<Command> ctx, String accountId, Settings settings,
                        CursorCodec codec, Metrics metrics) {
    super(PersistenceId.of(TYPE_KEY.name(), accountId),
        ON_PERSIST_FAILURE);
    this.ctx = ctx;
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
    return RETENTION.computeIfAbsent(List.of(settings.snapshotEvery(), settings.snapshotsKept(), settings.deleteEventsOnSnapshot() ? 1 : 0),
        k -> {
          var criteria = RetentionCriteria.snapshotEvery(k.get(0), k.get(1));
          return k.get(2) == 1 ? criteria.withDeleteEventsOnSnapshot() : criteria;
        });
  }

  /** One criteria object per configuration, not per entity. */
  private static final Map<List<Integer>, RetentionCriteria> RETENTION = new java.util.concurrent.ConcurrentHashMap<>();

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

  /**
   * One lambda for every entity incarnation: a handler built with the builder costs about 1.4 KB per entity
   * (a case object and two lambdas per command), which at millions of accounts is most of an idle one's heap.
   */
  @Override
  public CommandHandlerWithReply<Command, AccountEvent, AccountState> commandHandler() {
    return this::handle;
  }

  private ReplyEffect<AccountEvent, AccountState> handle(AccountState st, Command command) {
    // an erasure is serialized with everything else: what arrives meanwhile runs after it, on the new account
    if (erasing != null && !(command instanceof ErasureStored)) return Effect().stash();
    countLoad(command);
    // the hot commands first
    if (command instanceof Ingest c) return onIngest(st, c);
    if (command instanceof Sync c) return onSync(st, c);
    if (command instanceof Ack c) return onAck(st, c);
    if (command instanceof WaitExpired c) return onWaitExpired(st, c);
    if (command instanceof FlushDevices) return flushDevices();
    if (command instanceof Stop) return onStop(st);
    if (command instanceof GetSession c) {
      Session s = st.session(c.sessionId());
      return Effect().reply(c.replyTo(), s == null
          ? new Rejected(ErrorCode.NOT_FOUND, "session \"" + c.sessionId() + "\" not found")
          : new SessionReply(s, st.version()));
    }
    if (command instanceof GetGroups c) return Effect().reply(c.replyTo(), new GroupsReply(st.groupsInOrder(), st.version()));
    if (command instanceof GetEntries c) return onEntries(st, c);
    if (command instanceof GetStats c) {
      return Effect().reply(c.replyTo(), new StatsReply(st.version(), st.sessionCount(), st.groupCount(),
          currentDevices(st).size(), st.tombstoneCount(), eventsSinceSnapshot(), ctx.getSystem().address().toString(),
          lastSequenceNumber(ctx)));
    }
    if (command instanceof GetDevices c) return onGetDevices(st, c);
    if (command instanceof RemoveDevice c) return onRemoveDevice(st, c);
    if (command instanceof MarkRead c) return sessionAction(st.decideRead(c.sessionId(), c.seq(), now()), c.sessionId(), c.replyTo());
    if (command instanceof MarkUnread c) return sessionAction(st.decideMarkUnread(c.sessionId(), now()), c.sessionId(), c.replyTo());
    if (command instanceof SetDraft c) return sessionAction(st.decideDraft(c.sessionId(), c.text(), now()), c.sessionId(), c.replyTo());
    if (command instanceof SetMute c) return sessionAction(st.decideMute(c.sessionId(), c.until(), now()), c.sessionId(), c.replyTo());
    if (command instanceof SetBox c) return sessionAction(st.decideBox(c.sessionId(), c.box(), now()), c.sessionId(), c.replyTo());
    if (command instanceof DeleteSession c) {
      return decided(st.decideDeleteSession(c.sessionId(), now()), c.replyTo(), s -> new SessionRemovedReply(c.sessionId(), s.version()));
    }
    if (command instanceof CreateGroup c) return onCreateGroup(st, c);
    if (command instanceof PatchGroup c) {
      return groupAction(st.decidePatchGroup(c.groupId(), c.name(), c.position(), c.rule(), now()), c.groupId(), c.replyTo());
    }
    if (command instanceof Verify c) return onVerify(st, c);
    if (command instanceof DeleteGroup c) {
      return decided(st.decideDeleteGroup(c.groupId(), now()), c.replyTo(), s -> new GroupRemovedReply(c.groupId(), s.version()));
    }
    if (command instanceof AddMember c) {
      return memberAction(st.decideAddMember(c.groupId(), c.sessionId(), now()), c.groupId(), c.sessionId(), c.replyTo());
    }
    if (command instanceof AddMembers c) {
      Decision d = st.decideAddMembers(c.groupId(), c.sessionIds(), now());
      int added = d instanceof Decision.Accept a ? a.events().size() : 0;
      return decided(d, c.replyTo(), s -> new MembersAddedReply(s.group(c.groupId()), added, s.version()));
    }
    if (command instanceof RemoveMember c) {
      return memberAction(st.decideRemoveMember(c.groupId(), c.sessionId(), now()), c.groupId(), c.sessionId(), c.replyTo());
    }
    if (command instanceof SetPinned c) return groupAction(st.decideSetPinned(c.groupId(), c.sessionIds(), now()), c.groupId(), c.replyTo());
    if (command instanceof ExportPage c) return onExportPage(st, c);
    if (command instanceof Erase c) return onErase(st, c);
    if (command instanceof ErasureStored c) return onErasureStored(st, c);
    throw new IllegalArgumentException("unknown command " + command.getClass().getName());
  }

  /** The shard's load on this node: ingest deliveries, and every other command from outside. */
  private void countLoad(Command command) {
    if (command instanceof Ingest i) load.ingest(i.items().size());
    else if (!(command instanceof WaitExpired || command instanceof FlushDevices || command instanceof Stop
        || command instanceof ErasureStored)) load.request();
  }

  /**
   * Sharding's stop (passivation, hand-off). The shard waits for this actor to terminate and buffers every
   * message for the account meanwhile, and it sends the stop only once: an entity that fails its last write
   * and is restarted must still stop by itself, or the account never answers again. So: try once to rest
   * with a snapshot (pending device progress, then {@link AccountEvent.Passivated}); if that write fails,
   * the restart (see {@link #signalHandler}) sends the stop again and this time the entity stops without
   * writing. Nothing acknowledged is lost: device sightings are best-effort and the snapshot only saves the
   * next recovery some replay.
   */
  private ReplyEffect<AccountEvent, AccountState> onStop(AccountState st) {
    answerAllWaiters(st);
    if (stopWriteFailed) {
      ctx.getLog().info("account {} stops without its resting snapshot: that write failed", accountId);
      return Effect().stop().thenNoReply();
    }
    stopping = true;
    // after changes, rest with a snapshot (shouldSnapshot): the next start reads it and replays nothing
    List<AccountEvent> last = new ArrayList<>(2);
    if (!pendingDevices.isEmpty()) last.add(drainDevices());
    if (!last.isEmpty() || eventsSinceSnapshot() > 0) last.add(new AccountEvent.Passivated(now()));
    if (last.isEmpty()) return Effect().stop().thenNoReply();
    return Effect().persist(last).thenStop().thenNoReply();
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
      if (waiters.isEmpty()) waiters = new HashMap<>(4);
      waiters.put(id, new Waiter(view, cursor, c.limit(), c.maxBytes(), c.replyTo()));
      metrics.longPolls(1);
      waiters.get(id).expiry = ctx.scheduleOnce(Duration.ofMillis(c.waitMs()), ctx.getSelf(), new WaitExpired(id));
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
        if (w.expiry != null) w.expiry.cancel();
        w.replyTo().tell(syncReply(st, r));
        it.remove();
        metrics.longPolls(-1);
      }
    }
  }

  private ReplyEffect<AccountEvent, AccountState> onWaitExpired(AccountState st, WaitExpired c) {
    Waiter w = waiters.isEmpty() ? null : waiters.remove(c.waiterId());
    if (w != null) metrics.longPolls(-1);
    if (w != null) w.replyTo().tell(syncReply(st, plan(st, w.view(), w.cursor(), w.limit(), w.maxBytes())));
    return Effect().noReply();
  }

  /** Answers every waiter with what it would get now (an empty batch and a cursor as good as its own). */
  private void answerAllWaiters(AccountState st) {
    if (waiters.isEmpty()) return;
    for (Waiter w : waiters.values()) w.replyTo().tell(syncReply(st, plan(st, w.view(), w.cursor(), w.limit(), w.maxBytes())));
    metrics.longPolls(-waiters.size());
    waiters = Map.of();
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
    if (pendingDevices.isEmpty()) pendingDevices = new HashMap<>(4);
    pendingDevices.put(deviceId, latest);
    if (worthStoring(stored, latest) && !flushScheduled) {
      flushScheduled = true;
      ctx.scheduleOnce(DEVICE_FLUSH, ctx.getSelf(), FlushDevices.INSTANCE);
    }
  }

  /** Whether a sighting changes what the journal should hold: pruning reads acked versions, operators last sightings. */
  static boolean worthStoring(Device stored, Device seen) {
    return stored == null || stored.ackedVersion() != seen.ackedVersion()
        || seen.lastSeenAt() - stored.lastSeenAt() >= DEVICE_SEEN_PRECISION_MS;
  }

  private ReplyEffect<AccountEvent, AccountState> flushDevices() {
    flushScheduled = false;
    if (pendingDevices.isEmpty()) return Effect().noReply();
    return Effect().persist(drainDevices()).thenNoReply();
  }

  private AccountEvent drainDevices() {
    AccountEvent e = new AccountEvent.DevicesProgressed(List.copyOf(pendingDevices.values()), now());
    pendingDevices = Map.of();
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
    if (!pendingDevices.isEmpty()) pendingDevices.remove(c.deviceId());
    if (st.device(c.deviceId()) == null) return Effect().reply(c.replyTo(), new DeviceRemovedReply(c.deviceId(), st.version()));
    return Effect().persist(new AccountEvent.DeviceRemoved(c.deviceId(), now()))
        .thenReply(c.replyTo(), s -> new DeviceRemovedReply(c.deviceId(), s.version()));
  }

  /** A stopped or restarted entity answers its long polls instead of leaving them to time out. */
  @Override
  public SignalHandler<AccountState> signalHandler() {
    // one function for every signal, instead of the builder's chain of partial functions (~250 B an entity)
    return new SignalHandler<>(new scala.runtime.AbstractPartialFunction<scala.Tuple2<AccountState, akka.actor.typed.Signal>, scala.runtime.BoxedUnit>() {
      @Override
      public boolean isDefinedAt(scala.Tuple2<AccountState, akka.actor.typed.Signal> x) {
        akka.actor.typed.Signal s = x._2();
        return s == PostStop.instance() || s == PreRestart.instance() || s == RecoveryCompleted.instance() || s instanceof SnapshotCompleted
            || s instanceof RecoveryFailed;
      }

      @Override
      public <A1 extends scala.Tuple2<AccountState, akka.actor.typed.Signal>, B1> B1 applyOrElse(A1 x, scala.Function1<A1, B1> otherwise) {
        if (!isDefinedAt(x)) return otherwise.apply(x);
        onSignal(x._1(), x._2());
        @SuppressWarnings("unchecked") B1 unit = (B1) scala.runtime.BoxedUnit.UNIT;
        return unit;
      }
    });
  }

  private void onSignal(AccountState st, akka.actor.typed.Signal signal) {
    if (signal == PostStop.instance()) {
      answerAllWaiters(st);
    } else if (signal == PreRestart.instance()) {
      answerAllWaiters(st);
      // a failed write or recovery restarts this entity; if sharding was stopping it, that stop is spent
      if (stopping) stopWriteFailed = true;
      noteRestart();
      startedNanos = System.nanoTime();
      recovering = true;
      replayedEvents = 0;
    } else if (signal == RecoveryCompleted.instance()) {
      metrics.recovered(System.nanoTime() - startedNanos);
      recovering = false;
      snapshotSequenceNr = lastSequenceNumber(ctx) - replayedEvents;
      if (replayedEvents > 0) ctx.getLog().debug("recovered {} replaying {} events", accountId, replayedEvents);
      // restarted while stopping: finish the stop sharding is waiting for (see onStop)
      if (stopping) ctx.getSelf().tell(Stop.INSTANCE);
    } else if (signal instanceof RecoveryFailed rf) {
      lastRecoveryFailure = "; latest recovery failure: " + causes(rf.getFailure());
    } else if (signal instanceof SnapshotCompleted sc) {
      long previous = snapshotSequenceNr;
      snapshotSequenceNr = Math.max(snapshotSequenceNr, sc.metadata().sequenceNr());
      // two snapshots now cover the events up to the previous one: they may go (see EventRetention)
      if (!settings.deleteEventsOnSnapshot() && previous > 0 && previous < snapshotSequenceNr) {
        EventRetention.get(ctx.getSystem()).trim(sc.metadata().persistenceId(), previous, snapshotSequenceNr);
      }
    }
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
    pendingDevices = Map.of();
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
