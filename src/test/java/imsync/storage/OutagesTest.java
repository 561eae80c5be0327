package imsync.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.NoNodeAvailableException;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import com.datastax.oss.driver.api.core.servererrors.SyntaxError;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Which failures a setup call waits out, and that it stops on the others. */
class OutagesTest {
  private static final org.slf4j.Logger log = LoggerFactory.getLogger(OutagesTest.class);

  @Test
  void outagesArePassingMistakesAreNot() {
    assertTrue(Outages.passing(new DriverTimeoutException("Query timed out after PT5S")));
    assertTrue(Outages.passing(new java.util.concurrent.CompletionException(new NoNodeAvailableException())));
    assertTrue(Outages.passing(new InvalidQueryException(null, "Keyspace 'imsync' doesn't exist")));
    assertTrue(Outages.passing(new InvalidQueryException(null, "table messages does not exist")));
    assertFalse(Outages.passing(new InvalidQueryException(null, "Undefined column name x")));
    assertFalse(Outages.passing(new SyntaxError(null, "line 1:0 no viable alternative")));
    assertFalse(Outages.passing(new IllegalStateException("Session is closed")));
  }

  @Test
  void aCallIsTriedAgainUntilCassandraAnswers() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    CompletionStage<String> result = Outages.untilAnswered("test call", () -> calls.incrementAndGet() < 3
        ? CompletableFuture.failedFuture(new DriverTimeoutException("Query timed out after PT5S"))
        : CompletableFuture.completedFuture("prepared"), () -> false, log);
    assertEquals("prepared", result.toCompletableFuture().get(30, TimeUnit.SECONDS));
    assertEquals(3, calls.get());
  }

  @Test
  void aWrongCallFailsAtOnce() {
    AtomicInteger calls = new AtomicInteger();
    CompletionStage<String> result = Outages.untilAnswered("test call", () -> {
      calls.incrementAndGet();
      return CompletableFuture.failedFuture(new SyntaxError(null, "line 1:0 no viable alternative"));
    }, () -> false, log);
    ExecutionException e = assertThrows(ExecutionException.class, () -> result.toCompletableFuture().get(30, TimeUnit.SECONDS));
    assertInstanceOf(SyntaxError.class, e.getCause());
    assertEquals(1, calls.get());
  }

  @Test
  void aClosedSessionStopsTheAttempts() {
    AtomicInteger calls = new AtomicInteger();
    CompletionStage<String> result = Outages.untilAnswered("test call", () -> {
      calls.incrementAndGet();
      return CompletableFuture.failedFuture(new NoNodeAvailableException());
    }, () -> calls.get() >= 2, log);
    ExecutionException e = assertThrows(ExecutionException.class, () -> result.toCompletableFuture().get(30, TimeUnit.SECONDS));
    assertInstanceOf(NoNodeAvailableException.class, e.getCause());
    assertEquals(2, calls.get());
  }
}
