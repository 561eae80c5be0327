package imsync.core;

/** The contract's error codes that the account itself can decide; the HTTP layer owns the rest. */
public enum ErrorCode {
  INVALID_REQUEST("invalid_request"),
  INVALID_CURSOR("invalid_cursor"),
  NOT_FOUND("not_found"),
  CONFLICT("conflict"),
  LIMIT_EXCEEDED("limit_exceeded");

  public final String wire;

  ErrorCode(String wire) {
    this.wire = wire;
  }
}
