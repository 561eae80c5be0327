package imsync.client;

import java.time.Instant;
import java.util.Objects;

/**
 * Where the client is. {@code IDLE}: not started or closed. {@code SYNCING}: catching up from the stored cursor
 * (paging while {@code has_more}). {@code LIVE}: caught up, changes arrive on the stream (or by long poll, see
 * {@link #transport}). {@code OFFLINE}: the server is out of reach; {@link #nextRetry} says when it tries
 * again. {@code REPAIRING}: checking the mirror by digest ({@code POST /v1/sync/verify}) and fixing what
 * differs. {@code ERROR}: the server refuses the client (a bad token, say) or the store failed; {@link #detail}
 * says why; it retries at {@link #nextRetry} when that is set.
 */
public final class ClientState {
  public enum Kind { IDLE, SYNCING, LIVE, OFFLINE, REPAIRING, ERROR }

  /** How a live client hears of changes. */
  public enum Transport { NONE, STREAM, LONG_POLL }

  public final Kind kind;
  public final Transport transport;
  public final Instant nextRetry;
  public final String detail;

  public ClientState(Kind kind, Transport transport, Instant nextRetry, String detail) {
    this.kind = Objects.requireNonNull(kind);
    this.transport = Objects.requireNonNull(transport);
    this.nextRetry = nextRetry;
    this.detail = detail;
  }

  static ClientState of(Kind kind) {
    return new ClientState(kind, Transport.NONE, null, null);
  }

  @Override
  public String toString() {
    return kind + (transport == Transport.NONE ? "" : " (" + transport.name().toLowerCase().replace('_', ' ') + ")")
        + (nextRetry == null ? "" : " retry at " + nextRetry) + (detail == null ? "" : ": " + detail);
  }
}
