package imsync.http;

import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.json.SyncJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** {@code POST /v1/sync}: one batch from the cursor, each session at most once. */
public final class SyncRoutes extends HttpSupport {
  public static final int MIN_MAX_BYTES = 1024;
  public static final int MAX_MAX_BYTES = 16_777_216;

  public SyncRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter) {
    super(auth, accounts, settings, limiter);
  }

  public Route route() {
    return path(PathMatchers.segment("v1").slash("sync"), () -> post(() ->
        authenticated(Auth.Scope.DEVICE, p -> bodyBytes(body -> {
          SyncRequest req = SyncRequest.parse(body);
          return completeWithFuture(toResponseBytes(accounts.ask(p.accountId(),
              replyTo -> new AccountEntity.Sync(req.cursor, req.groups, req.limit, req.maxBytes, req.waitMs, p.deviceId(), replyTo),
              java.time.Duration.ofMillis(req.waitMs)), r -> render((AccountEntity.SyncReply) r))
              .thenApplyAsync(resp -> req.waitMs > 0 ? resp.addAttribute(LONG_POLL, Boolean.TRUE) : resp, IN_PLACE));
        }))));
  }

  /** A validated sync request body. {@code maxBytes}: 0 when absent (no byte budget). */
  public record SyncRequest(String cursor, int limit, List<String> groups, long waitMs, int maxBytes) {

    /** From a parsed tree (the same rules as {@link #parse(byte[])}). */
    public static SyncRequest parse(JsonNode body) {
      String cursor = null;
      if (Json.present(body, "cursor")) {
        JsonNode c = body.get("cursor");
        if (!c.isTextual()) throw ApiException.invalid("cursor must be a string or null");
        cursor = c.textValue();
      }
      Long limit = Json.optionalLong(body, "limit", 1, 1000);
      List<String> groups = null;
      if (Json.present(body, "groups")) {
        groups = new ArrayList<>();
        for (String g : Json.stringList(body.get("groups"), "groups", 0, 64)) groups.add(groupId(g, "groups"));
      }
      Long waitMs = Json.optionalLong(body, "wait_ms", 0, 30_000);
      Long maxBytes = Json.optionalLong(body, "max_bytes", MIN_MAX_BYTES, MAX_MAX_BYTES);
      return new SyncRequest(cursor, limit == null ? 200 : limit.intValue(), groups, waitMs == null ? 0 : waitMs,
          maxBytes == null ? 0 : maxBytes.intValue());
    }

    /**
     * From the body's bytes with a streaming parser, no tree: the hot path. Any body it does not accept as
     * valid (bad JSON, a wrong type, a value out of range, a duplicate or trailing token) goes through the
     * tree rules instead, so errors and their messages are exactly those of {@link #parse(JsonNode)}.
     * Unknown fields are skipped (still checked to be JSON).
     */
    public static SyncRequest parse(byte[] body) {
      SyncRequest fast = streamed(body);
      return fast != null ? fast : parse(Json.object(new String(body, StandardCharsets.UTF_8), true));
    }

    /** The request, or null when the body is anything but a plainly valid request. */
    private static SyncRequest streamed(byte[] body) {
      try (JsonParser p = Json.MAPPER.getFactory().createParser(body)) {
        JsonToken t = p.nextToken();
        if (t == null) return new SyncRequest(null, 200, null, 0, 0); // blank: {}
        if (t != JsonToken.START_OBJECT) return null;
        String cursor = null;
        long limit = 200;
        long waitMs = 0;
        long maxBytes = 0;
        List<String> groups = null;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          t = p.nextToken();
          switch (field) {
            case "cursor" -> {
              if (t == JsonToken.VALUE_STRING) cursor = p.getText();
              else if (t == JsonToken.VALUE_NULL) cursor = null;
              else return null;
            }
            case "limit" -> {
              if ((limit = integer(p, t, 1, 1000, 200)) < 0) return null;
            }
            case "wait_ms" -> {
              if ((waitMs = integer(p, t, 0, 30_000, 0)) < 0) return null;
            }
            case "max_bytes" -> {
              if ((maxBytes = integer(p, t, MIN_MAX_BYTES, MAX_MAX_BYTES, 0)) < 0) return null;
            }
            case "groups" -> {
              if (t == JsonToken.VALUE_NULL) {
                groups = null;
              } else if (t == JsonToken.START_ARRAY) {
                groups = new ArrayList<>();
                while ((t = p.nextToken()) == JsonToken.VALUE_STRING) {
                  String g = p.getText();
                  if (groups.size() == 64 || !validGroupId(g)) return null;
                  groups.add(g);
                }
                if (t != JsonToken.END_ARRAY) return null;
              } else {
                return null;
              }
            }
            default -> p.skipChildren();
          }
        }
        if (t != JsonToken.END_OBJECT || p.nextToken() != null) return null;
        return new SyncRequest(cursor, (int) limit, groups, waitMs, (int) maxBytes);
      } catch (IOException | RuntimeException e) {
        return null;
      }
    }

    /** A plain integer in range; {@code absent} for null; -1 for anything else (then the tree rules answer). */
    private static long integer(JsonParser p, JsonToken t, long min, long max, long absent) throws IOException {
      if (t == JsonToken.VALUE_NULL) return absent;
      if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) return -1;
      long n = p.getLongValue();
      return n < min || n > max ? -1 : n;
    }

    private static boolean validGroupId(String g) {
      try {
        groupId(g, "groups");
        return true;
      } catch (ApiException e) {
        return false;
      }
    }
  }

  /** The answer's bytes: the contract's keys in order, sessions and groups from their rendered JSON. */
  static byte[] render(AccountEntity.SyncReply r) {
    return SyncJson.write(r.cursor(), r.hasMore(), r.reset(), r.version(), r.groups(), r.removedGroups(), r.sessions(),
        r.removedSessions());
  }
}
