package imsync.peer;

import imsync.core.ErrorCode;

/** A request the peer refuses with one of the contract's error codes (not a Redis failure: that is a 503). */
public final class PeerException extends RuntimeException {
  public final ErrorCode code;

  public PeerException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }
}
