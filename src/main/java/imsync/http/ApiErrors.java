package imsync.http;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RetryAfter;
import imsync.json.JsonOut;
import imsync.core.ErrorCode;

/** Builds every error response: {@code {"error": {"code", "message"}}}, with Retry-After where the contract wants it. */
public final class ApiErrors {
  private ApiErrors() {}

  public static HttpResponse response(StatusCode status, String code, String message) {
    byte[] body = JsonOut.write(o -> o.startObject().startObject("error").field("code", code).field("message", message)
        .endObject().endObject());
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body));
  }

  public static HttpResponse unavailable(String message, int retryAfterSeconds) {
    return response(StatusCodes.SERVICE_UNAVAILABLE, "unavailable", message).addHeader(RetryAfter.create((long) retryAfterSeconds));
  }

  /** A 503 with Retry-After whose body (the error shape plus fields of its own) the caller wrote. */
  public static HttpResponse unavailable(byte[] body, int retryAfterSeconds) {
    return HttpResponse.create().withStatus(StatusCodes.SERVICE_UNAVAILABLE)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body))
        .addHeader(RetryAfter.create((long) retryAfterSeconds));
  }

  public static HttpResponse of(ApiException e) {
    return response(e.status, e.code, e.getMessage());
  }

  public static HttpResponse of(ErrorCode code, String message) {
    StatusCode status = switch (code) {
      case INVALID_REQUEST, INVALID_CURSOR -> StatusCodes.BAD_REQUEST;
      case NOT_FOUND -> StatusCodes.NOT_FOUND;
      case CONFLICT, LIMIT_EXCEEDED -> StatusCodes.CONFLICT;
    };
    return response(status, code.wire, message);
  }

  public static HttpResponse unauthorized(String message) {
    return response(StatusCodes.UNAUTHORIZED, "unauthorized", message);
  }

  public static HttpResponse forbidden(String message) {
    return response(StatusCodes.FORBIDDEN, "forbidden", message);
  }

  public static HttpResponse notFound(String message) {
    return response(StatusCodes.NOT_FOUND, "not_found", message);
  }
}
