package imsync.http;

import akka.http.scaladsl.model.Uri;
import java.util.List;

/**
 * Every public route as a method and a path template ({@code /v1/groups/{gid}}). One list serves the
 * metrics labels (a template, never a raw path, keeps label cardinality bounded) and the test that the
 * OpenAPI document and the code describe the same routes. A route added to the code is added here.
 */
public final class RouteTemplates {

  public record Route(String method, String template) {
    String[] segments() {
      return template.substring(1).split("/");
    }
  }

  /** What a request path is reported as when no template matches (unknown routes, probes). */
  public static final String UNMATCHED = "unmatched";

  public static final List<Route> ALL = List.of(
      new Route("POST", "/v1/sync"),
      new Route("POST", "/v1/sync/verify"),
      new Route("GET", "/v1/info"),
      new Route("POST", "/v1/ingest"),
      new Route("GET", "/v1/stream"),
      new Route("GET", "/v1/sessions/{sid}"),
      new Route("DELETE", "/v1/sessions/{sid}"),
      new Route("POST", "/v1/sessions/{sid}/read"),
      new Route("POST", "/v1/sessions/{sid}/unread"),
      new Route("PUT", "/v1/sessions/{sid}/draft"),
      new Route("PUT", "/v1/sessions/{sid}/mute"),
      new Route("PUT", "/v1/sessions/{sid}/box"),
      new Route("GET", "/v1/groups"),
      new Route("POST", "/v1/groups"),
      new Route("PATCH", "/v1/groups/{gid}"),
      new Route("DELETE", "/v1/groups/{gid}"),
      new Route("GET", "/v1/groups/{gid}/entries"),
      new Route("PUT", "/v1/groups/{gid}/sessions"),
      new Route("PUT", "/v1/groups/{gid}/sessions/{sid}"),
      new Route("DELETE", "/v1/groups/{gid}/sessions/{sid}"),
      new Route("PUT", "/v1/groups/{gid}/pinned"),
      new Route("GET", "/v1/devices"),
      new Route("DELETE", "/v1/devices/{device_id}"),
      new Route("GET", "/admin/cluster"),
      new Route("GET", "/admin/accounts/{account_id}"),
      new Route("POST", "/admin/shards/{shard_id}/move"),
      new Route("POST", "/admin/rebalance"),
      new Route("GET", "/admin/shards"),
      new Route("GET", "/admin/metrics"),
      new Route("POST", "/admin/members/{address}/leave"),
      new Route("POST", "/admin/members/{address}/down"),
      new Route("GET", "/admin/accounts/{account_id}/devices"),
      new Route("GET", "/admin/accounts/{account_id}/sessions/{sid}/history"),
      new Route("GET", "/admin/accounts/{account_id}/export"),
      new Route("DELETE", "/admin/accounts/{account_id}"),
      new Route("GET", "/admin/audit"),
      new Route("GET", "/openapi.yaml"),
      new Route("GET", "/console"),
      new Route("GET", "/console/{file}"));

  /** Each route's template split into segments, once. */
  private static final String[][] SEGMENTS = ALL.stream().map(Route::segments).toArray(String[][]::new);

  private RouteTemplates() {}

  /**
   * The template of a request path, whatever the method ({@link #UNMATCHED} if none). Literal segments
   * win over parameters, so {@code /v1/groups/x/sessions} is not taken for {@code /v1/groups/{gid}/...}.
   */
  public static String templateOf(String path) {
    return templateAt(indexOf(Uri.Path$.MODULE$.apply(path, Uri.Path$.MODULE$.apply$default$2())));
  }

  /** The template of {@link #indexOf}'s answer; {@code ALL.size()} is {@link #UNMATCHED}. */
  public static String templateAt(int index) {
    return index < ALL.size() ? ALL.get(index).template() : UNMATCHED;
  }

  /**
   * The index in {@link #ALL} of the route whose template a parsed request path matches (the first of the
   * best when several do), or {@code ALL.size()} for none. Walks the path's segments in place: no
   * allocation, so the metrics hook can call it on every request.
   */
  public static int indexOf(Uri.Path path) {
    Uri.Path start = path.startsWithSlash() ? path.tail() : path;
    int count = 1;
    for (Uri.Path p = start; !p.isEmpty(); p = p.tail()) {
      if (p.startsWithSlash()) count++;
    }
    int best = ALL.size();
    int bestLiterals = -1;
    for (int r = 0; r < SEGMENTS.length; r++) {
      String[] seg = SEGMENTS[r];
      if (seg.length != count) continue;
      Uri.Path p = start;
      int literals = 0;
      boolean ok = true;
      for (int i = 0; i < seg.length && ok; i++) {
        if (i > 0) {
          if (p.startsWithSlash()) p = p.tail();
          else {
            ok = false;
            break;
          }
        }
        String part = "";
        if (p.startsWithSegment()) {
          part = (String) p.head();
          p = p.tail();
        }
        if (seg[i].startsWith("{")) ok = !part.isEmpty();
        else if (seg[i].equals(part)) literals++;
        else ok = false;
      }
      if (ok && p.isEmpty() && literals > bestLiterals) {
        best = r;
        bestLiterals = literals;
      }
    }
    return best;
  }
}
