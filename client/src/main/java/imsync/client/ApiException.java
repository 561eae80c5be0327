package imsync.client;

import java.io.IOException;

/** An error answer of the server: the status, the contract's error code and, for 429/503, its Retry-After. */
public final class ApiException extends IOException {
  public final int status;
  public final String code;
  public final long retryAfterSeconds;

  public ApiException(int status, String code, String message, long retryAfterSeconds) {
    super(status + " " + code + ": " + message);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Worth trying again later (the server is busy, down or restarting); any other 4xx is final. */
  public boolean retryable() {
    return status == 408 || status == 429 || status >= 500;
  }
}
