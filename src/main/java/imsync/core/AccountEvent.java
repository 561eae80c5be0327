package imsync.core;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import imsync.CborSerializable;
import java.util.List;

/**
 * What happened to an account. Every event is one accepted change and raises the account's version by
 * one. Events carry resolved facts (server time, the account-relative flags of a message), so replay
 * never depends on config or the clock.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "t")
@JsonSubTypes({
  @JsonSubTypes.Type(value = AccountEvent.MessageIngested.class, name = "msg"),
  @JsonSubTypes.Type(value = AccountEvent.SessionUpdated.class, name = "upd"),
  @JsonSubTypes.Type(value = AccountEvent.SessionRemoved.class, name = "rm"),
  @JsonSubTypes.Type(value = AccountEvent.ReadMarked.class, name = "read"),
  @JsonSubTypes.Type(value = AccountEvent.MarkedUnread.class, name = "unread"),
  @JsonSubTypes.Type(value = AccountEvent.DraftSet.class, name = "draft"),
  @JsonSubTypes.Type(value = AccountEvent.MuteSet.class, name = "mute"),
  @JsonSubTypes.Type(value = AccountEvent.BoxSet.class, name = "box"),
  @JsonSubTypes.Type(value = AccountEvent.GroupCreated.class, name = "gnew"),
  @JsonSubTypes.Type(value = AccountEvent.GroupPatched.class, name = "gpatch"),
  @JsonSubTypes.Type(value = AccountEvent.GroupDeleted.class, name = "gdel"),
  @JsonSubTypes.Type(value = AccountEvent.MemberAdded.class, name = "madd"),
  @JsonSubTypes.Type(value = AccountEvent.MemberRemoved.class, name = "mrm"),
  @JsonSubTypes.Type(value = AccountEvent.PinnedSet.class, name = "pin"),
  @JsonSubTypes.Type(value = AccountEvent.DevicesProgressed.class, name = "devs"),
  @JsonSubTypes.Type(value = AccountEvent.DeviceRemoved.class, name = "devrm"),
  @JsonSubTypes.Type(value = AccountEvent.Batch.class, name = "batch"),
  @JsonSubTypes.Type(value = AccountEvent.Passivated.class, name = "rest"),
  @JsonSubTypes.Type(value = AccountEvent.SmartGroupCreated.class, name = "sgnew"),
  @JsonSubTypes.Type(value = AccountEvent.SmartRuleSet.class, name = "srule"),
  @JsonSubTypes.Type(value = AccountEvent.Erased.class, name = "erased"),
})
public sealed interface AccountEvent extends CborSerializable {
  /** Time of the change (event ts for ingest, server time for terminal actions). */
  long ts();

  /**
   * A message newer than the session's last one. {@code own}: sent by this account; {@code mentioned}:
   * mentions this account. kind/title null when the event did not give them.
   */
  record MessageIngested(String sessionId, String kind, String title, long seq, String senderId, String preview,
                         long ts, boolean own, boolean mentioned) implements AccountEvent {}

  record SessionUpdated(String sessionId, String kind, String title, long ts) implements AccountEvent {}

  record SessionRemoved(String sessionId, long ts) implements AccountEvent {}

  record ReadMarked(String sessionId, long seq, long ts) implements AccountEvent {}

  record MarkedUnread(String sessionId, long ts) implements AccountEvent {}

  /** Empty text clears the draft. */
  record DraftSet(String sessionId, String text, long ts) implements AccountEvent {}

  record MuteSet(String sessionId, long until, long ts) implements AccountEvent {}

  record BoxSet(String sessionId, String box, long ts) implements AccountEvent {}

  record GroupCreated(String groupId, String name, int position, long ts) implements AccountEvent {}

  record GroupPatched(String groupId, String name, int position, long ts) implements AccountEvent {}

  /** A smart folder (v1.1): its members are the sessions that match {@code rule}. */
  record SmartGroupCreated(String groupId, String name, int position, SmartRule rule, long ts) implements AccountEvent {}

  /** A smart folder's new rule; name and position change by {@link GroupPatched} as for custom groups. */
  record SmartRuleSet(String groupId, SmartRule rule, long ts) implements AccountEvent {}

  record GroupDeleted(String groupId, long ts) implements AccountEvent {}

  record MemberAdded(String groupId, String sessionId, long ts) implements AccountEvent {}

  record MemberRemoved(String groupId, String sessionId, long ts) implements AccountEvent {}

  record PinnedSet(String groupId, List<String> sessionIds, long ts) implements AccountEvent {}

  /**
   * Device progress gathered in memory and stored in one event every few seconds. Not a change of
   * sessions or groups: it raises no version and wakes no sync.
   */
  record DevicesProgressed(List<Device> devices, long ts) implements AccountEvent {}

  record DeviceRemoved(String deviceId, long ts) implements AccountEvent {}

  /**
   * The account was put to rest (passivated) after changes; a snapshot is taken right after this event,
   * so the next start reads one snapshot and replays nothing. Changes nothing itself.
   */
  record Passivated(long ts) implements AccountEvent {}

  /**
   * The changes of one command (an ingest call's deliveries to this account, a bulk add), stored as one
   * journal row: Cassandra's cost is mostly per row, not per byte. Applying it applies each change in
   * order, each taking its own version, exactly as if they had been stored one by one.
   */
  record Batch(List<AccountEvent> events) implements AccountEvent {
    public Batch {
      events = List.copyOf(events);
      if (events.isEmpty()) throw new IllegalArgumentException("an empty batch");
    }

    @Override
    public long ts() {
      return events.get(events.size() - 1).ts();
    }

    /** One event as itself, several as a batch. */
    public static AccountEvent of(List<AccountEvent> events) {
      return events.size() == 1 ? events.get(0) : new Batch(events);
    }
  }

  /**
   * The account was erased (API v1.2): everything before this event is void, and the account starts over
   * empty in incarnation {@code incarnation} (this event's own sequence number, so never reused). It
   * holds no data of the account: it stays in the journal as the durable marker that makes a replay of a
   * half-deleted journal, or an old snapshot, end in the empty account.
   */
  record Erased(long incarnation, long ts) implements AccountEvent {}

  /** Whether the event changes what sync delivers (and so takes a new version). */
  default boolean raisesVersion() {
    return !(this instanceof DevicesProgressed || this instanceof DeviceRemoved || this instanceof Passivated
        || this instanceof Erased);
  }
}
