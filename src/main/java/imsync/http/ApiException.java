package imsync.http;

import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;

/** A request the API refuses, in the contract's error shape. Thrown while parsing; mapped by {@link ApiErrors}. */
public final class ApiException extends RuntimeException {
  public final StatusCode status;
  public final String code;

  public ApiException(StatusCode status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public static ApiException invalid(String message) {
    return new ApiException(StatusCodes.BAD_REQUEST, "invalid_request", message);
  }

  public static ApiException invalidJson(String message) {
    return new ApiException(StatusCodes.BAD_REQUEST, "invalid_json", message);
  }
}
