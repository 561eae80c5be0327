package imsync.bench;

import akka.http.scaladsl.model.Uri;
import imsync.http.RouteTemplates;
import imsync.metrics.Metrics;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * What the metrics hook adds to a request, without the HTTP around it: finding the route template of a parsed
 * path, and recording the answer (cached timer, node latency, rate, refusal counters). {@code main} runs it
 * with JMH's GC profiler (allocation per call).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MetricsHookBenchmark {
  private Metrics metrics;
  private Uri.Path syncPath;
  private Uri.Path memberPath;
  private int syncRoute;

  @Setup
  public void setup() {
    metrics = MetricsForBenchmark.create();
    syncPath = Uri.Path$.MODULE$.apply("/v1/sync", Uri.Path$.MODULE$.apply$default$2());
    memberPath = Uri.Path$.MODULE$.apply("/v1/groups/work/sessions/dm:bob", Uri.Path$.MODULE$.apply$default$2());
    syncRoute = RouteTemplates.indexOf(syncPath);
  }

  @Benchmark
  public int templateOfSync() {
    return RouteTemplates.indexOf(syncPath);
  }

  @Benchmark
  public int templateOfDeepPath() {
    return RouteTemplates.indexOf(memberPath);
  }

  @Benchmark
  public void record() {
    metrics.httpRequest(syncRoute, "POST", 200, 1_500_000, false);
  }

  @Benchmark
  public void wholeHook() {
    metrics.httpRequest(RouteTemplates.indexOf(syncPath), "POST", 200, 1_500_000, false);
  }

  public static void main(String[] args) throws Exception {
    new Runner(new OptionsBuilder().include(MetricsHookBenchmark.class.getSimpleName()).addProfiler("gc").build()).run();
  }
}
