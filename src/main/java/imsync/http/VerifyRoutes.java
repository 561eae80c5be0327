package imsync.http;

import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.core.Group;
import imsync.core.Session;
import imsync.core.SessionDigests;
import imsync.core.VerifyPlanner;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * {@code POST /v1/sync/verify} (v1.1): the client's bucket digests in, the sessions of the buckets that
 * differ out (whole buckets, at most 1000 sessions and, with {@code max_bytes}, at most that many bytes).
 */
public final class VerifyRoutes extends HttpSupport {
  static final int MAX_SESSIONS = 1000;
  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{16}");

  public VerifyRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter) {
    super(auth, accounts, settings, limiter);
  }

  public Route route() {
    return path(PathMatchers.segment("v1").slash("sync").slash("verify"), () -> post(() ->
        authenticated(Auth.Scope.DEVICE, p -> jsonBody(false, body -> {
          VerifyRequest req = VerifyRequest.parse(body);
          return askAccount(p.accountId(), r -> new AccountEntity.Verify(req.groups, req.digests, MAX_SESSIONS, r),
              reply -> render((AccountEntity.VerifyReply) reply, req.maxBytes));
        }))));
  }

  /** A validated verify body; {@code maxBytes} 0: no byte budget. */
  record VerifyRequest(List<String> groups, long[] digests, int maxBytes) {
    static VerifyRequest parse(JsonNode body) {
      List<String> groups = null;
      if (Json.present(body, "groups")) {
        groups = new ArrayList<>();
        for (String g : Json.stringList(body.get("groups"), "groups", 0, 64)) groups.add(groupId(g, "groups"));
      }
      if (!Json.present(body, "digests")) throw ApiException.invalid("digests is required");
      List<String> hex = Json.stringList(body.get("digests"), "digests", 1, SessionDigests.MAX_BUCKETS);
      if (!SessionDigests.validBucketCount(hex.size())) {
        throw ApiException.invalid("digests must hold a power of two from 1 to 4096 entries, not " + hex.size());
      }
      long[] digests = new long[hex.size()];
      for (int i = 0; i < digests.length; i++) {
        String d = hex.get(i);
        if (!DIGEST.matcher(d).matches()) throw ApiException.invalid("digests[" + i + "] must be 16 lowercase hex digits");
        digests[i] = Long.parseUnsignedLong(d, 16);
      }
      Long maxBytes = Json.optionalLong(body, "max_bytes", 1024, 16_777_216);
      return new VerifyRequest(groups, digests, maxBytes == null ? 0 : maxBytes.intValue());
    }
  }

  /**
   * The response, with whole buckets dropped to {@code unchecked} when {@code maxBytes} is set and they do not
   * fit. Sizes are the serialized bytes of the very nodes sent (same writer as {@link #ok}); the envelope is
   * measured with every candidate bucket in {@code mismatched}, an upper bound of any split between
   * {@code mismatched} and {@code unchecked}, and each session is charged its bytes plus a comma.
   */
  static JsonNode render(AccountEntity.VerifyReply r, int maxBytes) {
    List<Integer> included = new ArrayList<>();
    TreeSet<Integer> unchecked = new TreeSet<>(r.unchecked());
    ArrayNode sessions = JsonViews.object().arrayNode();
    if (maxBytes <= 0) {
      for (VerifyPlanner.Bucket b : r.buckets()) {
        included.add(b.bucket());
        for (Session s : b.sessions()) sessions.add(JsonViews.session(s));
      }
    } else {
      TreeSet<Integer> candidates = new TreeSet<>(r.unchecked());
      for (VerifyPlanner.Bucket b : r.buckets()) candidates.add(b.bucket());
      long room = maxBytes - size(envelope(r, new ArrayList<>(candidates), List.of(), JsonViews.object().arrayNode()));
      boolean alone = false;
      for (VerifyPlanner.Bucket b : r.buckets()) {
        List<ObjectNode> nodes = new ArrayList<>(b.sessions().size());
        long cost = 0;
        for (Session s : b.sessions()) {
          ObjectNode n = JsonViews.session(s);
          nodes.add(n);
          cost += size(n) + 1;
        }
        boolean fits = !alone && cost <= room;
        // one session alone that does not fit is sent alone (the contract's exception), else it could never be repaired
        boolean sendAlone = !fits && !alone && included.isEmpty() && nodes.size() == 1;
        if (fits || sendAlone) {
          included.add(b.bucket());
          sessions.addAll(nodes);
          room -= cost;
          alone = sendAlone;
        } else {
          unchecked.add(b.bucket());
        }
      }
    }
    return envelope(r, included, new ArrayList<>(unchecked), sessions);
  }

  private static ObjectNode envelope(AccountEntity.VerifyReply r, List<Integer> mismatched, List<Integer> unchecked, ArrayNode sessions) {
    ObjectNode n = JsonViews.object();
    n.put("version", r.version());
    n.put("cursor", r.cursor());
    ArrayNode groups = n.putArray("groups");
    for (Group g : r.groups()) groups.add(JsonViews.group(g));
    ArrayNode m = n.putArray("mismatched");
    mismatched.forEach(m::add);
    n.set("sessions", sessions);
    ArrayNode u = n.putArray("unchecked");
    unchecked.forEach(u::add);
    return n;
  }

  private static long size(JsonNode n) {
    try {
      return Json.MAPPER.writeValueAsBytes(n).length;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
