package imsync.http;

import java.util.concurrent.atomic.AtomicLong;

/** This node's WebSocket streams, for operators ({@code GET /admin/cluster}, field {@code streams}). */
public final class StreamStats {
  final AtomicLong open = new AtomicLong();
  final AtomicLong slowClientsClosed = new AtomicLong();

  public long open() {
    return open.get();
  }

  /** Streams this node cut off because their client took no frame for the slow-client timeout. */
  public long slowClientsClosed() {
    return slowClientsClosed.get();
  }
}
