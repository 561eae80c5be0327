package imsync.storage;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.RequestThrottlingException;
import com.datastax.oss.driver.api.core.connection.BusyConnectionException;
import com.datastax.oss.driver.api.core.connection.ClosedConnectionException;
import com.datastax.oss.driver.api.core.connection.HeartbeatException;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import com.datastax.oss.driver.api.core.servererrors.OverloadedException;
import com.datastax.oss.driver.api.core.servererrors.QueryConsistencyException;
import com.datastax.oss.driver.api.core.servererrors.ServerError;
import com.datastax.oss.driver.api.core.servererrors.TruncateException;
import com.datastax.oss.driver.api.core.servererrors.UnavailableException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;

/**
 * Setup calls that must not fail for good because Cassandra was away when they were made. Preparing a statement
 * and creating the schema happen once, when a plugin starts, and their result is kept: the persistence plugin
 * keeps each prepared statement's future for its whole life, so a prepare that failed during an outage (a
 * Cassandra node killed as the first account moved to this node) failed every later write or replay of that
 * node, long after Cassandra was back. These calls are tried again until Cassandra answers instead.
 */
public final class Outages {
  private Outages() {}

  private static final Pattern MISSING_SCHEMA = Pattern.compile("(?i)(does not|doesn't) exist|unconfigured table");
  private static final long FIRST_DELAY_MS = 250;
  private static final long MAX_DELAY_MS = 5_000;
  private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
  /** How long a missing table or keyspace is waited for: a schema change reaches every node of a ring within it. */
  private static final long MISSING_SCHEMA_NANOS = TimeUnit.SECONDS.toNanos(60);

  /**
   * Whether {@code failure} says Cassandra could not answer now rather than that the call is wrong: timeouts,
   * no node or connection, overload, unavailable replicas, and a table or keyspace that does not exist yet (on
   * a ring, a table created on one node reaches the others a moment later).
   */
  public static boolean passing(Throwable failure) {
    Throwable t = unwrap(failure);
    if (t instanceof InvalidQueryException) return missingSchema(t);
    return t instanceof DriverTimeoutException || t instanceof AllNodesFailedException || t instanceof ClosedConnectionException
        || t instanceof HeartbeatException || t instanceof BusyConnectionException || t instanceof RequestThrottlingException
        || t instanceof OverloadedException || t instanceof UnavailableException || t instanceof QueryConsistencyException
        || t instanceof ServerError || t instanceof TruncateException || t instanceof java.util.concurrent.TimeoutException
        || t instanceof java.io.IOException;
  }

  /** A table or keyspace that does not exist (yet): worth waiting for a while only, since some never will. */
  static boolean missingSchema(Throwable t) {
    return t instanceof InvalidQueryException && t.getMessage() != null && MISSING_SCHEMA.matcher(t.getMessage()).find();
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) t = t.getCause();
    return t;
  }

  /**
   * {@code call}, tried again after a passing failure (backing off from 250 ms to 5 s, with jitter) until it
   * succeeds, fails for another reason, or {@code giveUp} says stop (the session closed). A missing table or
   * keyspace is waited for 60 s at most (the persistence plugin prepares statements for tables it never
   * creates, such as those of events by tag when that is off). Failures are logged as warnings, at most every
   * 10 s per call; those of a missing table at debug level.
   */
  public static <T> CompletionStage<T> untilAnswered(String what, Supplier<CompletionStage<T>> call, BooleanSupplier giveUp, Logger log) {
    CompletableFuture<T> result = new CompletableFuture<>();
    long now = System.nanoTime();
    new Attempts<>(what, call, giveUp, log, result, now).attempt(1, FIRST_DELAY_MS, now - LOG_EVERY_NANOS);
    return result;
  }

  private record Attempts<T>(String what, Supplier<CompletionStage<T>> call, BooleanSupplier giveUp, Logger log,
                             CompletableFuture<T> result, long startedNanos) {
    void attempt(int attempt, long delayMs, long loggedAt) {
      CompletionStage<T> stage;
      try {
        stage = call.get();
      } catch (RuntimeException e) {
        stage = CompletableFuture.failedFuture(e);
      }
      stage.whenComplete((value, failure) -> {
        if (failure == null) {
          if (attempt > 1) log.info("{}: done after {} attempts", what, attempt);
          result.complete(value);
          return;
        }
        Throwable cause = unwrap(failure);
        long now = System.nanoTime();
        boolean missing = missingSchema(cause);
        if (!passing(cause) || giveUp.getAsBoolean() || (missing && now - startedNanos > MISSING_SCHEMA_NANOS)) {
          result.completeExceptionally(cause);
          return;
        }
        long logged = loggedAt;
        if (missing) {
          log.debug("{} failed (attempt {}), trying again for a while: {}", what, attempt, cause.toString());
        } else if (now - loggedAt >= LOG_EVERY_NANOS) {
          log.warn("{} failed (attempt {}), trying again until Cassandra answers: {}", what, attempt, cause.toString());
          logged = now;
        }
        long wait = delayMs / 2 + ThreadLocalRandom.current().nextLong(delayMs / 2 + 1);
        long nextDelay = Math.min(MAX_DELAY_MS, delayMs * 2);
        long loggedNext = logged;
        CompletableFuture.delayedExecutor(wait, TimeUnit.MILLISECONDS).execute(() -> attempt(attempt + 1, nextDelay, loggedNext));
      });
    }
  }
}
