package imsync.http;

import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The operator console: one static page and its script and style, from {@code console/} in the class path.
 * The files need no token; every call the page makes to {@code /admin} carries the operator's token.
 */
public final class ConsoleRoutes extends AllDirectives {
  /** File names only: no directories, so nothing but the console's own files is reachable. */
  private static final Pattern FILE_NAME = Pattern.compile("[a-z0-9][a-z0-9.-]*\\.(?:html|js|css|svg)");

  /**
   * The page loads only its own files and talks only to its own node; no cache, so a new build shows at
   * once.
   */
  private static final List<akka.http.javadsl.model.HttpHeader> HEADERS = List.of(
      RawHeader.create("Cache-Control", "no-cache"),
      RawHeader.create("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"),
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      RawHeader.create("Referrer-Policy", "no-referrer"));

  public Route route() {
    return get(() -> pathPrefix("console", () -> respondWithHeaders(HEADERS, () -> concat(
        pathEndOrSingleSlash(() -> getFromResource("console/index.html")),
        path(PathMatchers.segment(FILE_NAME), file -> getFromResource("console/" + file))))));
  }
}
