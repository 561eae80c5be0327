package imsync.http;

import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * {@code GET /v1/info} (no auth): the contract versions this server implements and its build. "v1.1" is
 * listed only when all of it is served: smart folders and verify (with max_bytes) are; {@code max_bytes} on
 * {@code POST /v1/sync} comes with the streaming writer (branch hotpath): set {@link #SYNC_MAX_BYTES} then.
 */
public final class InfoRoutes extends HttpSupport {
  static final String BUILD = buildVersion();
  /** Whether POST /v1/sync honours max_bytes (the last piece of v1.1). */
  static final boolean SYNC_MAX_BYTES = false;

  public InfoRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter) {
    super(auth, accounts, settings, limiter);
  }

  public Route route() {
    return path(PathMatchers.segment("v1").slash("info"), () -> get(() -> {
      ObjectNode n = JsonViews.object();
      var api = n.putArray("api").add("v1");
      if (SYNC_MAX_BYTES) api.add("v1.1");
      n.put("version", BUILD);
      return complete(ok(n));
    }));
  }

  /** The Maven project version, written into imsync-build.properties at build time. */
  private static String buildVersion() {
    try (InputStream in = InfoRoutes.class.getResourceAsStream("/imsync-build.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.isBlank() && !v.contains("${")) return v;
      }
    } catch (IOException ignored) {
      // falls through
    }
    return "dev";
  }
}
