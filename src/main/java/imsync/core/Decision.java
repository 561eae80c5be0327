package imsync.core;

import java.util.List;

/** What the account decided about one command, before anything is persisted. */
public sealed interface Decision {

  record Accept(List<AccountEvent> events) implements Decision {
    public Accept(AccountEvent event) {
      this(List.of(event));
    }
  }

  /** Valid, but changes nothing: answered without raising the version. */
  record Unchanged() implements Decision {}

  record Reject(ErrorCode code, String message) implements Decision {}

  Unchanged UNCHANGED = new Unchanged();

  static Reject notFound(String message) {
    return new Reject(ErrorCode.NOT_FOUND, message);
  }

  static Reject invalid(String message) {
    return new Reject(ErrorCode.INVALID_REQUEST, message);
  }
}
