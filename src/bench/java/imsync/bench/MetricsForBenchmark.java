package imsync.bench;

import imsync.metrics.Metrics;
import java.lang.reflect.Constructor;

/** A node's {@link Metrics} without an actor system (its constructor is package-private: the extension makes it). */
final class MetricsForBenchmark {
  private MetricsForBenchmark() {}

  static Metrics create() {
    try {
      Constructor<Metrics> c = Metrics.class.getDeclaredConstructor(int.class);
      c.setAccessible(true);
      return c.newInstance(300);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }
}
