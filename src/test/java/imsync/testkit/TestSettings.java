package imsync.testkit;

import imsync.Settings;
import imsync.core.Limits;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Settings for tests that build the entity or routes without a config file. */
public final class TestSettings {
  public static final String SECRET = "test-secret";

  private TestSettings() {}

  public static Settings of(Limits limits, int snapshotEvery) {
    return new Settings("127.0.0.1", 0, SECRET.getBytes(StandardCharsets.UTF_8), "cursor-test".getBytes(StandardCharsets.UTF_8),
        Duration.ofSeconds(5), 1, limits, snapshotEvery, 2, true, 1024 * 1024, 0, 0,
        Duration.ofSeconds(25), Duration.ofSeconds(20), 200);
  }
}
