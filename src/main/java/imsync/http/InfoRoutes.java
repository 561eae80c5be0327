package imsync.http;

import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * {@code GET /v1/info} (no auth): the contract versions this server implements (v1, and v1.1: smart
 * folders, verify, max_bytes) and its build.
 */
public final class InfoRoutes extends HttpSupport {
  static final String BUILD = buildVersion();
  static final java.util.List<String> API = java.util.List.of("v1", "v1.1", "v1.2");

  public InfoRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter) {
    super(auth, accounts, settings, limiter);
  }

  public Route route() {
    return path(PathMatchers.segment("v1").slash("info"), () -> get(() -> {
      ObjectNode n = JsonViews.object();
      JsonViews.strings(n.putArray("api"), API);
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
