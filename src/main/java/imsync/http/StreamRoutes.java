package imsync.http;

import akka.Done;
import akka.NotUsed;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import akka.japi.Pair;
import akka.pattern.Patterns;
import akka.stream.BackpressureTimeoutException;
import akka.stream.KillSwitches;
import akka.stream.Materializer;
import akka.stream.SharedKillSwitch;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.fasterxml.jackson.databind.JsonNode;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.core.CursorCodec;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/stream} (WebSocket): catch-up pages from the cursor, then one frame per change burst.
 *
 * <p>Frames are pulled, not pushed: the next sync (a long poll on the account) is only asked for once the
 * client has taken the previous frame, so a slow client costs the node one frame at most and never an
 * unbounded buffer; it simply gets a larger delta later. A client that takes no frame for
 * {@code imsync.stream.slow-client-timeout} while one is waiting is disconnected and resumes from its
 * last acknowledged cursor (Akka HTTP cannot send close code 4000: akka/akka-http#2458). Node shutdown
 * completes every stream (close frame) before the HTTP port unbinds.
 */
public final class StreamRoutes extends HttpSupport {
  private static final Logger log = LoggerFactory.getLogger(StreamRoutes.class);

  private final ActorSystem<?> system;
  private final CursorCodec codec;
  private final SharedKillSwitch streams = KillSwitches.shared("imsync-streams");
  private final StreamStats stats;

  public StreamRoutes(ActorSystem<?> system, Auth auth, Accounts accounts, Settings settings, RateLimiter limiter,
                      StreamStats stats) {
    super(auth, accounts, settings, limiter);
    this.system = system;
    this.stats = stats;
    this.codec = new CursorCodec(settings.cursorSecret());
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "close-sync-streams", () -> {
      streams.shutdown();
      return CompletableFuture.completedFuture(Done.getInstance());
    });
  }

  public Route route() {
    return path(PathMatchers.segment("v1").slash("stream"), () -> get(() ->
        parameterOptional("access_token", token -> parameterOptional("cursor", cursor -> parameterOptional("groups", groupsParam ->
            parameterOptional("max_bytes", maxBytesParam -> authenticated(Auth.Scope.DEVICE, token, p -> {
              // v1.1: ?groups=a,b makes the stream a view like sync's groups filter (smart folders included)
              List<String> groups = null;
              if (groupsParam.isPresent()) {
                groups = new ArrayList<>();
                for (String g : groupsParam.get().split(",", -1)) groups.add(groupId(g, "groups"));
              }
              // v1.1: ?max_bytes=N bounds every frame as sync's max_bytes bounds an answer
              int maxBytes = maxBytesParam.map(StreamRoutes::maxBytes).orElse(0);
              String start = cursor.filter(c -> !c.isEmpty()).orElse(null);
              if (start != null) {
                try {
                  codec.decode(p.accountId(), start);
                } catch (CursorCodec.InvalidCursorException e) {
                  return complete(ApiErrors.response(akka.http.javadsl.model.StatusCodes.BAD_REQUEST, "invalid_cursor", e.getMessage()));
                }
              }
              return handleWebSocketMessages(flow(p.accountId(), p.deviceId(), start, groups, maxBytes));
            })))))));
  }

  /** Where a stream is: its cursor, whether it has caught up (then it long-polls), and whether it just started. */
  private record Position(String cursor, boolean caughtUp, boolean start, boolean ended) {
    Position(String cursor, boolean caughtUp, boolean start) {
      this(cursor, caughtUp, start, false);
    }
  }

  Flow<Message, Message, NotUsed> flow(String account, String device, String cursor) {
    return flow(account, device, cursor, null, 0);
  }

  private static int maxBytes(String text) {
    try {
      long n = Long.parseLong(text);
      if (n >= SyncRoutes.MIN_MAX_BYTES && n <= SyncRoutes.MAX_MAX_BYTES) return (int) n;
    } catch (NumberFormatException ignored) {
      // falls through to the error
    }
    throw ApiException.invalid("max_bytes must be an integer between " + SyncRoutes.MIN_MAX_BYTES + " and " + SyncRoutes.MAX_MAX_BYTES);
  }

  /** {@code groups}: the view (null: the whole account); {@code maxBytes}: frame budget (0: none). */
  Flow<Message, Message, NotUsed> flow(String account, String device, String cursor, List<String> groups, int maxBytes) {
    Materializer mat = Materializer.matFromSystem(system);
    Sink<Message, CompletionStage<Done>> acks = Flow.<Message>create()
        // binary messages are drained and ignored, so they cannot stall the acks behind them
        .mapAsync(1, m -> m.isText()
            ? m.asTextMessage().getStreamedText().runFold("", String::concat, mat)
            : m.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), mat).thenApplyAsync(done -> "", IN_PLACE))
        .toMat(Sink.foreach(text -> ack(account, device, text)), (a, b) -> b);
    Source<Message, NotUsed> frames = Source.unfoldAsync(new Position(cursor, false, true), pos -> next(account, device, groups, maxBytes, pos))
        .filter(Optional::isPresent)
        .map(Optional::get)
        .backpressureTimeout(settings.streamSlowClientTimeout())
        .watchTermination((notUsed, done) -> {
          stats.open.incrementAndGet();
          done.whenCompleteAsync((d, failure) -> {
            stats.open.decrementAndGet();
            if (failure instanceof BackpressureTimeoutException) stats.slowClientsClosed.incrementAndGet();
          }, IN_PLACE);
          return notUsed;
        })
        .via(streams.flow());
    return Flow.fromSinkAndSourceCoupled(acks, frames);
  }

  /** One step: a page of catch-up, or a long poll once caught up. Empty result: nothing to send yet. */
  private CompletionStage<Optional<Pair<Position, Optional<Message>>>> next(String account, String device, List<String> groups,
                                                                            int maxBytes, Position pos) {
    if (pos.ended()) return CompletableFuture.completedFuture(Optional.empty());
    long wait = pos.caughtUp() ? settings.streamPollWait().toMillis() : 0;
    // the cursor the client connected with is its acknowledgement; later ones come as {"ack": ...}
    String acking = pos.start() ? device : null;
    CompletionStage<AccountEntity.Reply> reply = accounts.ask(account,
        r -> new AccountEntity.Sync(pos.cursor(), groups, settings.streamPageSize(), maxBytes, wait, acking, r), Duration.ofMillis(wait));
    return reply.handleAsync((r, failure) -> {
      if (r instanceof AccountEntity.Rejected rej) {
        // a view group that does not exist (or was deleted): one error frame, then the stream ends
        ObjectNode err = JsonViews.object();
        ObjectNode e = err.putObject("error");
        e.put("code", rej.code().wire);
        e.put("message", rej.message());
        return Optional.of(Pair.create(new Position(null, true, false, true), Optional.<Message>of(TextMessage.create(err.toString()))));
      }
      if (failure != null || !(r instanceof AccountEntity.SyncReply s)) {
        return null; // account unreachable for now (moving, restarting, storage down): try again shortly
      }
      Position after = new Position(s.cursor(), !s.hasMore(), false);
      // the first answer is always sent (it carries the cursor); later, an expired long poll sends nothing
      Optional<Message> frame = s.isEmpty() && pos.caughtUp() ? Optional.empty() : Optional.of(TextMessage.create(new String(SyncRoutes.render(s), java.nio.charset.StandardCharsets.UTF_8)));
      return Optional.of(Pair.create(after, frame));
    }, IN_PLACE).thenComposeAsync(step -> step != null
        ? CompletableFuture.completedFuture(step)
        : Patterns.after(Duration.ofSeconds(1), system.classicSystem().scheduler(), system.executionContext(),
            () -> CompletableFuture.completedFuture(Optional.of(Pair.create(pos, Optional.<Message>empty())))), IN_PLACE);
  }

  private void ack(String account, String device, String text) {
    try {
      JsonNode n = Json.MAPPER.readTree(text);
      if (n != null && n.path("ack").isTextual()) accounts.tell(account, new AccountEntity.Ack(n.get("ack").textValue(), device));
    } catch (Exception e) {
      log.debug("ignoring a stream message that is not an ack: {}", e.getMessage());
    }
  }
}
