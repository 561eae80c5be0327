package imsync.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The response check itself: it passes what the contract allows and names what it does not. */
class OpenApiContractTest {
  private static final OpenApiContract DOC = OpenApiContract.DOCUMENT;
  private static final Map<String, List<String>> JSON = Map.of("content-type", List.of("application/json"));

  private static final String SESSION = "{\"session_id\":\"dm:bob\",\"kind\":\"direct\",\"title\":\"Bob\","
      + "\"last_message\":{\"seq\":42,\"sender_id\":\"bob\",\"preview\":\"see you\",\"ts\":1764400000000},"
      + "\"read_seq\":39,\"unread_count\":3,\"mention_count\":1,\"marked_unread\":false,\"muted_until\":0,"
      + "\"draft\":{\"text\":\"ok\",\"ts\":1764400001000},\"box\":\"inbox\",\"groups\":[\"work\"],"
      + "\"sort_key\":1764400001000,\"version\":1234}";
  private static final String GROUP = "{\"group_id\":\"work\",\"kind\":\"custom\",\"name\":\"Work\",\"position\":3,"
      + "\"pinned\":[\"g:team\",\"dm:boss\"],\"session_count\":40,\"unread_sessions\":3,\"unread_messages\":17,\"version\":1200}";

  private static String sync(String session, String group) {
    return "{\"cursor\":\"opaque\",\"has_more\":false,\"reset\":false,\"version\":1234,\"groups\":[" + group + "],"
        + "\"removed_groups\":[\"old-folder\"],\"sessions\":[" + session + "],\"removed_sessions\":[\"dm:carol\"]}";
  }

  private static List<String> sync200(String body) {
    return DOC.check("POST", "/v1/sync", 200, JSON, body);
  }

  @Test
  void theContractsOwnExamplesConform() {
    assertEquals(List.of(), sync200(sync(SESSION, GROUP)));
    String smart = GROUP.replace("\"custom\"", "\"smart\"").replace("\"version\":1200", "\"rule\":{\"unread\":true},\"version\":1200");
    assertEquals(List.of(), DOC.check("POST", "/v1/groups", 200, JSON, "{\"group\":" + smart + ",\"version\":5}"));
    String nulls = SESSION.replaceFirst("\\{\"seq\":42[^}]*}", "null").replaceFirst("\\{\"text\":\"ok\"[^}]*}", "null");
    assertEquals(List.of(), DOC.check("GET", "/v1/sessions/dm:bob", 200, JSON, "{\"session\":" + nulls + ",\"version\":5}"));
  }

  @Test
  void aMemberThatDidNotAnswerHasNullFiguresAndOneThatDidHasNumbers() {
    String silent = "{\"shards\":[],\"members\":[{\"address\":\"akka://imsync@127.0.0.1:25520\",\"status\":\"up\","
        + "\"reachable\":true,\"answered\":false,\"shards\":null,\"active_accounts\":null,\"requests_per_second\":null,"
        + "\"ingest_per_second\":null}]}";
    assertEquals(List.of(), DOC.check("GET", "/admin/shards", 200, JSON, silent));
    String wrong = silent.replace("\"shards\":null", "\"shards\":\"none\"");
    assertTrue(DOC.check("GET", "/admin/shards", 200, JSON, wrong).toString().contains("shards"));
    String noAnswerField = silent.replace("\"answered\":false,", "");
    assertTrue(DOC.check("GET", "/admin/shards", 200, JSON, noAnswerField).toString().contains("answered"));
  }

  @Test
  void aWrongTypeAMissingFieldOrAnUnknownEnumIsNamed() {
    assertTrue(sync200(sync(SESSION.replace("\"unread_count\":3", "\"unread_count\":\"3\""), GROUP)).toString().contains("unread_count"));
    assertTrue(sync200(sync(SESSION.replace("\"kind\":\"direct\"", "\"kind\":\"dm\""), GROUP)).toString().contains("kind"));
    assertTrue(sync200(sync(SESSION.replace("\"box\":\"inbox\",", ""), GROUP)).toString().contains("box"));
    assertTrue(sync200(sync(SESSION.replace("\"version\":1234", "\"version\":1234,\"extra\":1"), GROUP)).toString().contains("extra"));
    assertTrue(sync200(sync(SESSION, GROUP.replace("\"position\":3", "\"position\":3.5"))).toString().contains("position"));
    assertTrue(sync200(sync(SESSION, GROUP).replace("\"has_more\":false,", "")).toString().contains("has_more"));
  }

  @Test
  void aSmartFolderHasARuleAndOnlyASmartFolderHasOne() {
    String smartWithoutRule = GROUP.replace("\"custom\"", "\"smart\"");
    assertTrue(!sync200(sync(SESSION, smartWithoutRule)).isEmpty());
    String customWithRule = GROUP.replace("\"version\":1200", "\"rule\":{},\"version\":1200");
    assertTrue(!sync200(sync(SESSION, customWithRule)).isEmpty());
  }

  @Test
  void errorsNeedTheirStatusCodeAndHeaders() {
    String limited = "{\"error\":{\"code\":\"rate_limited\",\"message\":\"slow down\"}}";
    assertTrue(DOC.check("POST", "/v1/sync", 429, JSON, limited).toString().contains("Retry-After"));
    Map<String, List<String>> withRetry = Map.of("Content-Type", List.of("application/json"), "Retry-After", List.of("1"));
    assertEquals(List.of(), DOC.check("POST", "/v1/sync", 429, withRetry, limited));
    String wrongCode = "{\"error\":{\"code\":\"not_found\",\"message\":\"x\"}}";
    assertTrue(!DOC.check("POST", "/v1/sync", 400, JSON, wrongCode).isEmpty());
    assertTrue(DOC.check("GET", "/v1/groups", 409, JSON, "{\"error\":{\"code\":\"conflict\",\"message\":\"x\"}}")
        .toString().contains("not documented"));
  }

  @Test
  void anUndocumentedRouteMayOnlyAnswerNoRoute() {
    String noRoute = "{\"error\":{\"code\":\"not_found\",\"message\":\"no route for GET /v1/nope\"}}";
    assertEquals(List.of(), DOC.check("GET", "/v1/nope", 404, JSON, noRoute));
    assertTrue(!DOC.check("GET", "/v1/nope", 200, JSON, "{}").isEmpty());
    assertTrue(!DOC.check("GET", "/v1/nope", 404, JSON, "{\"error\":{\"code\":\"not_found\",\"message\":\"gone\"}}").isEmpty());
    assertEquals(List.of(), DOC.check("GET", "/bench/anything", 200, JSON, "{}"), "benchmark-only routes are not judged");
  }

  @Test
  void theDocumentHoldsTogether() {
    List<String> problems = new java.util.ArrayList<>();
    refs(DOC.root(), "", problems);
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (OpenApiContract.Operation op : DOC.operations()) {
      String id = op.node().path("operationId").asText("");
      if (id.isEmpty() || !ids.add(id)) problems.add(op + ": operationId missing or repeated");
      if (!op.node().path("responses").fieldNames().hasNext()) problems.add(op + ": no responses");
      java.util.Set<String> declared = new java.util.HashSet<>();
      for (com.fasterxml.jackson.databind.JsonNode p : DOC.root().path("paths").path(op.template()).path("parameters")) {
        declared.add(resolve(p).path("name").asText());
      }
      for (com.fasterxml.jackson.databind.JsonNode p : op.node().path("parameters")) declared.add(resolve(p).path("name").asText());
      var m = java.util.regex.Pattern.compile("\\{([^}]+)}").matcher(op.template());
      while (m.find()) if (!declared.contains(m.group(1))) problems.add(op + ": path parameter " + m.group(1) + " is not declared");
    }
    assertEquals(List.of(), problems);
  }

  private static com.fasterxml.jackson.databind.JsonNode resolve(com.fasterxml.jackson.databind.JsonNode n) {
    return n.has("$ref") ? DOC.root().at(n.get("$ref").asText().substring(1)) : n;
  }

  /** Every $ref points at something in the document. */
  private static void refs(com.fasterxml.jackson.databind.JsonNode n, String at, List<String> problems) {
    if (n.has("$ref") && n.get("$ref").isTextual()) {
      String ref = n.get("$ref").asText();
      if (!ref.startsWith("#/") || DOC.root().at(ref.substring(1)).isMissingNode()) problems.add(at + ": dangling $ref " + ref);
    }
    if (n.isObject()) n.fields().forEachRemaining(e -> refs(e.getValue(), at + "/" + e.getKey(), problems));
    if (n.isArray()) for (int i = 0; i < n.size(); i++) refs(n.get(i), at + "/" + i, problems);
  }

  @Test
  void templatesMatchLikeTheServerRoutes() {
    assertEquals("/v1/groups/{group_id}/sessions", DOC.find("PUT", "/v1/groups/work/sessions").orElseThrow().template());
    assertEquals("/v1/groups/{group_id}/sessions/{session_id}", DOC.find("PUT", "/v1/groups/work/sessions/dm:bob").orElseThrow().template());
    assertEquals("/v1/sync/verify", DOC.find("POST", "/v1/sync/verify").orElseThrow().template());
    assertEquals("device", DOC.find("POST", "/v1/sync").orElseThrow().scope().orElseThrow());
    assertTrue(DOC.find("GET", "/v1/info").orElseThrow().scope().isEmpty());
  }
}
