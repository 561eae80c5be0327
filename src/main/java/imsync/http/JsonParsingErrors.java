package imsync.http;

import akka.event.LoggingAdapter;
import akka.http.ParsingErrorHandler;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.scaladsl.model.ErrorInfo;
import akka.http.scaladsl.model.StatusCode;
import akka.http.scaladsl.settings.ServerSettings;

/**
 * Answers requests that fail HTTP parsing (bad request line, method, headers) in the contract's error
 * shape: 413 for an oversized request, 400 for everything else, never a 5xx. Installed through
 * {@code akka.http.server.parsing.error-handler}, which loads it like a Scala object (MODULE$).
 */
public final class JsonParsingErrors extends ParsingErrorHandler {
  public static final JsonParsingErrors MODULE$ = new JsonParsingErrors();

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo error, LoggingAdapter log, ServerSettings settings) {
    log.debug("HTTP parsing error {}: {}", status.intValue(), error.formatPretty());
    if (status.intValue() == 413) {
      return ApiErrors.response(StatusCodes.PAYLOAD_TOO_LARGE, "payload_too_large", error.summary());
    }
    return ApiErrors.response(StatusCodes.BAD_REQUEST, "invalid_request", "malformed HTTP request: " + error.summary());
  }
}
