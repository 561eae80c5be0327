package imsync.http;

import akka.actor.typed.ActorRef;
import akka.http.javadsl.model.AttributeKey;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RetryAfter;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.http.scaladsl.model.EntityStreamException;
import akka.http.scaladsl.model.EntityStreamSizeException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.core.Box;
import imsync.json.JsonOut;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every route class shares: bearer-token auth, strict JSON bodies, asking an account and mapping its
 * reply (or a timeout, or storage trouble) to the contract's responses.
 */
public abstract class HttpSupport extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(HttpSupport.class);

  /**
   * Runs a callback on the thread that completed the future. Akka's CompletionStages (Scala's converted
   * futures) run even {@code handle}/{@code thenApply} through the common pool, which on a 2-core machine
   * starts a new thread per task; our callbacks are short and never block, so they run in place.
   */
  public static final Executor IN_PLACE = Runnable::run;

  /** Marks an answer that waited for a change (a long poll): kept out of the node's latency percentiles. */
  public static final AttributeKey<Boolean> LONG_POLL = AttributeKey.create("imsync-long-poll", Boolean.class);

  protected final Auth auth;
  protected final Accounts accounts;
  protected final Settings settings;
  protected final RateLimiter limiter;

  protected HttpSupport(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter) {
    this.auth = auth;
    this.accounts = accounts;
    this.settings = settings;
    this.limiter = limiter;
  }

  /** Checks the bearer token (or {@code fallbackToken}, for the stream) and its scope. */
  protected Route authenticated(Auth.Scope needed, Optional<String> fallbackToken, Function<Auth.Principal, Route> inner) {
    return optionalHeaderValueByName("Authorization", header -> {
      String token = null;
      if (header.isPresent()) {
        String h = header.get().trim();
        if (h.regionMatches(true, 0, "Bearer ", 0, 7)) token = h.substring(7).trim();
        else return complete(ApiErrors.unauthorized("Authorization must be \"Bearer <token>\""));
      } else if (fallbackToken.isPresent()) {
        token = fallbackToken.get();
      }
      if (token == null || token.isEmpty()) return complete(ApiErrors.unauthorized("a bearer token is required"));
      Auth.Principal p;
      try {
        p = auth.verify(token);
      } catch (Auth.KeysUnavailable e) {
        return complete(ApiErrors.unavailable(e.getMessage() + "; retry", settings.retryAfterSeconds()));
      } catch (Auth.Unauthorized e) {
        return complete(ApiErrors.unauthorized(e.getMessage()));
      }
      if (p.scope() != needed) {
        return complete(ApiErrors.forbidden("this call needs a " + needed.name().toLowerCase() + " token"));
      }
      if (p.scope() == Auth.Scope.DEVICE) {
        long wait = limiter.acquire(p.accountId());
        if (wait > 0) {
          return complete(ApiErrors.response(StatusCodes.TOO_MANY_REQUESTS, "rate_limited",
              "too many requests for this account; retry after " + wait + " s").addHeader(RetryAfter.create(wait)));
        }
      }
      return inner.apply(p);
    });
  }

  protected Route authenticated(Auth.Scope needed, Function<Auth.Principal, Route> inner) {
    return authenticated(needed, Optional.empty(), inner);
  }

  /** Reads the whole body (at most the configured size: else 413) and parses it as a JSON object. */
  protected Route jsonBody(boolean emptyIsObject, Function<JsonNode, Route> inner) {
    return bodyBytes(bytes -> inner.apply(Json.object(new String(bytes, StandardCharsets.UTF_8), emptyIsObject)));
  }

  /**
   * Reads the whole body (at most the configured size: else 413) as bytes. A body that arrived whole (the
   * usual small request) is used as it is, without a round through {@code toStrict}'s future.
   */
  protected Route bodyBytes(Function<byte[], Route> inner) {
    return extractRequestEntity(entity -> {
      if (entity.getContentLengthOption().isPresent() && entity.getContentLengthOption().getAsLong() > settings.maxBodyBytes()) {
        return complete(payloadTooLarge());
      }
      if (entity instanceof HttpEntity.Strict whole) return inner.apply(whole.getData().toArray());
      return extractMaterializer(mat -> onComplete(entity.toStrict(settings.askTimeout().toMillis(), settings.maxBodyBytes(), mat), strict -> {
          if (strict.isFailure()) {
            if (isTooLarge(strict.failed().get())) return complete(payloadTooLarge());
            return complete(ApiErrors.response(StatusCodes.BAD_REQUEST, "invalid_request", "request body could not be read"));
          }
          return inner.apply(strict.get().getData().toArray());
        }));
    });
  }

  static boolean isTooLarge(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof EntityStreamSizeException) return true;
      // toStrict's own limit on a chunked body
      if (c instanceof EntityStreamException e && e.getMessage() != null && e.getMessage().contains("too large")) return true;
    }
    return false;
  }

  static HttpResponse payloadTooLarge() {
    return ApiErrors.response(StatusCodes.PAYLOAD_TOO_LARGE, "payload_too_large", "request body is larger than 1 MiB");
  }

  /** Asks the account and maps the reply; a timeout or failure is 503 with Retry-After, never a 500. */
  protected Route askAccount(String accountId, Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command,
                             Function<AccountEntity.Reply, JsonNode> onReply) {
    return completeWithFuture(toResponse(accounts.ask(accountId, command), onReply));
  }

  /** Writes the body of a successful reply (see {@link JsonOut}). */
  @FunctionalInterface
  protected interface ReplyWriter {
    void write(AccountEntity.Reply reply, JsonOut out);
  }

  /** Asks the account and writes its reply with {@link JsonOut}; a timeout or failure is 503 with Retry-After. */
  protected Route askAccount(String accountId, Function<ActorRef<AccountEntity.Reply>, AccountEntity.Command> command,
                             ReplyWriter onReply) {
    return completeWithFuture(toResponseBytes(accounts.ask(accountId, command), r -> JsonOut.write(o -> onReply.write(r, o))));
  }

  /** Maps a reply to its body bytes, or a rejection, timeout or failure to the contract's errors. */
  protected CompletionStage<HttpResponse> toResponseBytes(CompletionStage<AccountEntity.Reply> reply,
                                                          Function<AccountEntity.Reply, byte[]> onReply) {
    return reply.handleAsync((r, failure) -> {
      if (failure != null) {
        log.warn("account did not answer: {}", failure.toString());
        return unavailable();
      }
      if (r instanceof AccountEntity.Rejected rej) return ApiErrors.of(rej.code(), rej.message());
      if (r instanceof AccountEntity.StorageUnavailable u) return ApiErrors.unavailable(u.message(), settings.retryAfterSeconds());
      return ok(onReply.apply(r));
    }, IN_PLACE);
  }

  protected CompletionStage<HttpResponse> toResponse(CompletionStage<AccountEntity.Reply> reply,
                                                     Function<AccountEntity.Reply, JsonNode> onReply) {
    return toResponseBytes(reply, r -> bytes(onReply.apply(r)));
  }

  protected HttpResponse unavailable() {
    return ApiErrors.unavailable("the account is not reachable right now; retry", settings.retryAfterSeconds());
  }

  /** 200 with a JSON body already written (a strict entity: its length is known, nothing streams). */
  public static HttpResponse ok(byte[] json) {
    return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, json));
  }

  public static HttpResponse ok(JsonOut.Body body) {
    return ok(JsonOut.write(body));
  }

  public static HttpResponse ok(JsonNode body) {
    return ok(bytes(body));
  }

  private static byte[] bytes(JsonNode body) {
    try {
      return Json.MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A group id in a path or body: a system id or a custom one. */
  protected static String groupId(String value, String field) {
    if (Box.isBox(value)) return value;
    return Json.id(value, Json.CUSTOM_GROUP_ID, field);
  }

  protected static String sessionId(String value) {
    return Json.id(value, Json.SESSION_ID, "session_id");
  }

  /** A page size from a query parameter: 1 to 1000, 50 when absent. */
  protected static int pageLimit(Optional<String> text) {
    if (text.isEmpty()) return 50;
    try {
      int n = Integer.parseInt(text.get());
      if (n >= 1 && n <= 1000) return n;
    } catch (NumberFormatException ignored) {
      // falls through to the error
    }
    throw ApiException.invalid("limit must be an integer between 1 and 1000");
  }
}
