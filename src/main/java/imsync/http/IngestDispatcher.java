package imsync.http;

import akka.actor.typed.ActorSystem;
import akka.stream.BoundedSourceQueue;
import akka.stream.QueueOfferResult;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import imsync.account.AccountEntity;
import imsync.core.IngestItem;
import imsync.metrics.Metrics;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The node's one way from ingest calls to accounts, with bounded concurrency end to end: at most
 * {@code parallelism} deliveries (one account's part of a call) are being stored at once, at most
 * {@code capacity} wait, and a call that does not fit is shed before any work starts. What reaches Cassandra
 * is therefore bounded by this node's parallelism (each delivery is one journal write, or a recovery and a
 * write for an account not in memory), whatever the callers send; the driver's throttler bounds it again.
 *
 * <p>Every delivery ends in bounded time: one still waiting when its call's deadline passes is dropped
 * unasked, and an ask never outlives that deadline. The outcome names what was not stored, so the caller can
 * resend only that (resending everything stays correct: ingest is idempotent).
 */
public final class IngestDispatcher {

  /** What became of one delivery. */
  public sealed interface Outcome {}

  public record Stored(int accepted, int ignored) implements Outcome {}

  /** Not stored: it may be resent. {@code why}: shed (no room), expired (the call's deadline), failed (no answer). */
  public record NotStored(String why) implements Outcome {}

  private record Delivery(String accountId, List<IngestItem> items, long deadlineNanos, CompletableFuture<Outcome> outcome) {}

  private final Accounts accounts;
  private final Metrics metrics;
  private final int capacity;
  private final Duration deadline;
  private final BoundedSourceQueue<Delivery> queue;
  private final int parallelism;
  /** Parts finished (stored or not), and the pace they finish at: what admission measures waiting time with. */
  private final java.util.concurrent.atomic.AtomicLong finished = new java.util.concurrent.atomic.AtomicLong();
  private volatile double partsPerSecond;
  private volatile long paceSampledAt = System.nanoTime();
  private volatile long paceSampledCount;

  public IngestDispatcher(ActorSystem<?> system, Accounts accounts, Metrics metrics, int parallelism, int capacity, Duration deadline) {
    this.accounts = accounts;
    this.metrics = metrics;
    this.capacity = capacity;
    this.deadline = deadline;
    this.parallelism = parallelism;
    this.queue = Source.<Delivery>queue(capacity)
        .mapAsyncUnordered(parallelism, this::deliver)
        .to(Sink.ignore())
        .run(system);
    metrics.gauge("imsync.ingest.waiting", "Ingest deliveries (one account's part of a call) waiting for a slot", queue::size);
  }

  /** From {@code imsync.ingest}. */
  public static IngestDispatcher fromConfig(ActorSystem<?> system, Accounts accounts, Metrics metrics) {
    com.typesafe.config.Config c = system.settings().config().getConfig("imsync.ingest");
    return new IngestDispatcher(system, accounts, metrics, c.getInt("parallelism"), c.getInt("max-waiting"), c.getDuration("deadline"));
  }

  /** Counts a call shed whole (see {@link #admits}). */
  public void shedWhole(int deliveries) {
    metrics.ingestNotStored("shed", deliveries);
  }

  /**
   * Whether a call of {@code parts} accounts fits now; one that does not is shed whole, before any work. It fits
   * when the queue, at the pace parts have been finishing, drains within half the deadline (Little's law):
   * a fixed queue length would be seconds at one pace (accounts in memory: thousands a second) and longer than
   * the deadline at another (new accounts, each read before its write), and every part admitted past that
   * point expires unasked after waiting. Never more than {@code max-waiting}; at least {@code 4 x parallelism}
   * while the pace is still unknown or slow; and an empty queue takes any call, so every call gets in on an
   * idle node.
   */
  public boolean admits(int parts) {
    int waiting = queue.size();
    double budget = Math.max(4.0 * parallelism, pace() * deadline.toMillis() / 2000.0);
    // an empty queue takes any call: one larger than the budget (or than max-waiting: what does not fit the
    // queue is then shed part by part and named in the 503's retry list) would otherwise never get in
    return waiting == 0 || (waiting + parts <= capacity && waiting + parts <= budget);
  }

  /** Parts finished per second, smoothed; sampled at most every 250 ms by whoever asks. */
  double pace() {
    long now = System.nanoTime();
    long since = now - paceSampledAt;
    if (since >= 250_000_000L) {
      long count = finished.get();
      double sample = (count - paceSampledCount) * 1e9 / since;
      paceSampledAt = now;
      paceSampledCount = count;
      // Only a busy node's pace lowers the estimate: while nothing waits, completions only show how much
      // arrived, and letting that lower the budget would shed more, so less would arrive (a spiral down
      // seen in the scale bench, where shed callers wait Retry-After). An idle node keeps its last pace.
      boolean busy = queue.size() > 0;
      if (sample > 0 && (busy || sample > partsPerSecond)) {
        partsPerSecond = partsPerSecond == 0 ? sample : 0.7 * partsPerSecond + 0.3 * sample;
      }
    }
    return partsPerSecond;
  }

  /** The call's deadline as an absolute {@link System#nanoTime()}. */
  public long deadlineFromNow() {
    return System.nanoTime() + deadline.toNanos();
  }

  /** Queues one account's part of a call; the outcome always completes, by {@code deadlineNanos} or soon after. */
  public CompletionStage<Outcome> submit(String accountId, List<IngestItem> items, long deadlineNanos) {
    Delivery d = new Delivery(accountId, List.copyOf(items), deadlineNanos, new CompletableFuture<>());
    QueueOfferResult r = queue.offer(d);
    if (r != QueueOfferResult.enqueued()) notStored(d, "shed");
    return d.outcome();
  }

  /** Never fails (a failed element would end the stream for every later call). */
  private CompletionStage<Outcome> deliver(Delivery d) {
    long left = d.deadlineNanos() - System.nanoTime();
    if (left <= TimeUnit.MILLISECONDS.toNanos(5)) {
      finished.incrementAndGet();
      notStored(d, "expired");
      return d.outcome();
    }
    accounts.askWithin(d.accountId(), r -> new AccountEntity.Ingest(d.items(), r), Duration.ofNanos(left))
        .whenComplete((reply, failure) -> {
          finished.incrementAndGet();
          if (reply instanceof AccountEntity.IngestReply ok) d.outcome().complete(new Stored(ok.accepted(), ok.ignored()));
          else notStored(d, "failed");
        });
    return d.outcome();
  }

  private void notStored(Delivery d, String why) {
    metrics.ingestNotStored(why, d.items().size());
    d.outcome().complete(new NotStored(why));
  }

  public void close() {
    queue.complete();
  }
}
