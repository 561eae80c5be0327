package imsync;

import com.typesafe.config.Config;
import imsync.core.Limits;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Typed view of the {@code imsync} config block, read once at start. */
public record Settings(
    String httpHost,
    int httpPort,
    byte[] authSecret,
    byte[] cursorSecret,
    Duration askTimeout,
    int retryAfterSeconds,
    Limits limits,
    int snapshotEvery,
    int snapshotsKept,
    boolean deleteEventsOnSnapshot,
    long maxBodyBytes,
    double ratePerSecond,
    int rateBurst,
    Duration streamPollWait,
    Duration streamSlowClientTimeout,
    int streamPageSize) {

  public static Settings from(Config root) {
    Config c = root.getConfig("imsync");
    String auth = c.getString("auth.secret");
    String cursor = c.getString("cursor.secret");
    // that a secret or a JWKS is set is AuthSettings' check; here only what the cursor key needs
    if (auth.isEmpty() && cursor.isEmpty()) {
      // else the cursor key would be derived from an empty secret: a constant anyone can forge cursors with
      throw new IllegalArgumentException("imsync.cursor.secret (env IMSYNC_CURSOR_SECRET) must be set when imsync.auth.secret is empty");
    }
    Limits limits = new Limits(
        c.getInt("limits.max-custom-groups"),
        c.getInt("limits.max-pinned-per-group"),
        c.getDuration("limits.removal-retention").toMillis(),
        c.getInt("limits.removal-retention-count"));
    return new Settings(
        c.getString("http.host"),
        c.getInt("http.port"),
        auth.getBytes(StandardCharsets.UTF_8),
        (cursor.isEmpty() ? "cursor:" + auth : cursor).getBytes(StandardCharsets.UTF_8),
        c.getDuration("ask-timeout"),
        (int) Math.max(1, c.getDuration("retry-after").toSeconds()),
        limits,
        c.getInt("snapshot.every"),
        c.getInt("snapshot.keep"),
        c.getBoolean("snapshot.delete-events"),
        c.getBytes("http.max-body"),
        c.getDouble("rate-limit.per-second"),
        c.getInt("rate-limit.burst"),
        c.getDuration("stream.poll-wait"),
        c.getDuration("stream.slow-client-timeout"),
        c.getInt("stream.page-size"));
  }
}
