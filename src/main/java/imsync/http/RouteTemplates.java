package imsync.http;

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
      new Route("GET", "/openapi.yaml"));

  private RouteTemplates() {}

  /**
   * The template of a request path, whatever the method ({@link #UNMATCHED} if none). Literal segments
   * win over parameters, so {@code /v1/groups/x/sessions} is not taken for {@code /v1/groups/{gid}/...}.
   */
  public static String templateOf(String path) {
    String[] parts = (path.startsWith("/") ? path.substring(1) : path).split("/", -1);
    String best = UNMATCHED;
    int bestLiterals = -1;
    for (Route r : ALL) {
      String[] seg = r.segments();
      if (seg.length != parts.length) continue;
      int literals = 0;
      boolean ok = true;
      for (int i = 0; i < seg.length && ok; i++) {
        if (seg[i].startsWith("{")) ok = !parts[i].isEmpty();
        else if (seg[i].equals(parts[i])) literals++;
        else ok = false;
      }
      if (ok && literals > bestLiterals) {
        best = r.template();
        bestLiterals = literals;
      }
    }
    return best;
  }
}
