package imsync.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.NonValidationKeyword;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The repo's {@code openapi.yaml} as a test oracle: its operations (method, path template) and a check of
 * one HTTP response against what the document says that operation answers with that status (the JSON
 * Schema of the body, by networknt's json-schema-validator in draft 2020-12, as OpenAPI 3.1 uses; the
 * media type; the required headers). {@link Api} runs every response through {@link #check}.
 */
public final class OpenApiContract {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();
  // 2019-09, not 2020-12: this validator version (the last built on Jackson 2.13) skips 2020-12's "items";
  // the keywords the document uses (items as one schema, type lists, const, if/then/else, contains) mean the same in both
  private static final String DIALECT = "https://json-schema.org/draft/2019-09/schema";
  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");

  /** The document as built onto the test class path (copied from the repo root by pom.xml). */
  public static final OpenApiContract DOCUMENT = load();

  /** One operation of the document. {@code normalized} has every parameter as {@code {}}. */
  public record Operation(String method, String template, String normalized, JsonNode node, Pattern regex, int literals) {
    /** The token scope its security requirement names ({@code device}, {@code service}, {@code operator}), or none. */
    public Optional<String> scope() {
      for (JsonNode requirement : node.path("security")) {
        for (JsonNode roles : requirement) if (roles.size() > 0) return Optional.of(roles.get(0).asText());
      }
      return Optional.empty();
    }

    public boolean hasRequestBody() {
      return node.has("requestBody");
    }

    @Override
    public String toString() {
      return method + " " + template;
    }
  }

  private final JsonNode root;
  private final List<Operation> operations;
  private final JsonSchemaFactory factory;
  private final Map<String, JsonSchema> schemas = new ConcurrentHashMap<>();

  private OpenApiContract(JsonNode root) {
    this.root = root;
    this.operations = operationsOf(root);
    // OpenAPI's own words next to schemas are annotations, not assertions
    JsonMetaSchema dialect = JsonMetaSchema.builder(DIALECT, JsonMetaSchema.getV201909())
        .addKeyword(new NonValidationKeyword("components"))
        .addKeyword(new NonValidationKeyword("example"))
        .addKeyword(new NonValidationKeyword("discriminator"))
        .build();
    this.factory = new JsonSchemaFactory.Builder().defaultMetaSchemaURI(DIALECT).addMetaSchema(dialect).build();
  }

  private static OpenApiContract load() {
    try (InputStream in = OpenApiContract.class.getClassLoader().getResourceAsStream("openapi.yaml")) {
      if (in == null) throw new IllegalStateException("openapi.yaml is not on the class path (see pom.xml resources)");
      return new OpenApiContract(YAML.readTree(in));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public JsonNode root() {
    return root;
  }

  public List<Operation> operations() {
    return operations;
  }

  /** A path template with its parameter names dropped: {@code /v1/groups/{gid}} and {@code /v1/groups/{group_id}} agree. */
  public static String normalize(String template) {
    return template.replaceAll("\\{[^}/]+}", "{}");
  }

  private static List<Operation> operationsOf(JsonNode root) {
    List<Operation> ops = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("paths").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> path = it.next();
      String template = path.getKey();
      StringBuilder regex = new StringBuilder();
      int literals = 0;
      for (String segment : template.substring(1).split("/", -1)) {
        regex.append('/');
        if (segment.startsWith("{")) {
          regex.append("[^/]+");
        } else {
          regex.append(Pattern.quote(segment));
          literals++;
        }
      }
      for (Iterator<Map.Entry<String, JsonNode>> ms = path.getValue().fields(); ms.hasNext(); ) {
        Map.Entry<String, JsonNode> m = ms.next();
        if (!METHODS.contains(m.getKey())) continue;
        ops.add(new Operation(m.getKey().toUpperCase(Locale.ROOT), template, normalize(template), m.getValue(),
            Pattern.compile(regex.toString()), literals));
      }
    }
    return List.copyOf(ops);
  }

  /** The operation a request hits: the matching template with the most literal segments, as the server routes. */
  public Optional<Operation> find(String method, String path) {
    Operation best = null;
    for (Operation op : operations) {
      if (!op.method().equals(method) || !op.regex().matcher(path).matches()) continue;
      if (best == null || op.literals() > best.literals()) best = op;
    }
    return Optional.ofNullable(best);
  }

  /**
   * What is wrong with a response to {@code method pathAndQuery}, judged by the document; empty when it
   * conforms. A path the document does not describe must be answered "no route" (404); {@code /bench}
   * (benchmark-only routes, off in production) is not part of the API and not judged.
   */
  public List<String> check(String method, String pathAndQuery, int status, Map<String, List<String>> headers, String body) {
    String path = pathAndQuery.split("\\?", 2)[0];
    if (path.startsWith("/bench/")) return List.of();
    Optional<Operation> op = find(method, path);
    if (op.isEmpty()) {
      List<String> problems = new ArrayList<>();
      if (status != 404) problems.add("no documented operation for " + method + " " + path + ", yet it answered " + status);
      else {
        problems.addAll(body(resolve(root.at("/components/responses/NotFound")), headers, body));
        if (problems.isEmpty() && !messageOf(body).startsWith("no route")) {
          problems.add("no documented operation for " + method + " " + path + ", yet its 404 is not \"no route\": " + body);
        }
      }
      return problems;
    }
    JsonNode responses = op.get().node().path("responses");
    JsonNode response = responses.has(Integer.toString(status)) ? responses.get(Integer.toString(status)) : responses.get("default");
    if (response == null) {
      TreeSet<String> documented = new TreeSet<>();
      responses.fieldNames().forEachRemaining(documented::add);
      return List.of("status " + status + " is not documented (documented: " + documented + ")");
    }
    response = resolve(response);
    List<String> problems = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = response.path("headers").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> h = it.next();
      if (resolve(h.getValue()).path("required").asBoolean(false) && header(headers, h.getKey()) == null) {
        problems.add("required header " + h.getKey() + " is missing");
      }
    }
    problems.addAll(body(response, headers, body));
    return problems;
  }

  private List<String> body(JsonNode response, Map<String, List<String>> headers, String body) {
    JsonNode content = response.get("content");
    if (content == null || content.isEmpty()) {
      return body == null || body.isEmpty() ? List.of() : List.of("the document says no body, yet one came: " + abbreviate(body));
    }
    String contentType = Optional.ofNullable(header(headers, "Content-Type")).orElse("");
    String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    if (!content.has(mediaType)) {
      TreeSet<String> documented = new TreeSet<>();
      content.fieldNames().forEachRemaining(documented::add);
      return List.of("content type \"" + contentType + "\" is not documented (documented: " + documented + ")");
    }
    if (!mediaType.equals("application/json")) return List.of();
    JsonNode json;
    try {
      json = JSON.readTree(body == null ? "" : body);
    } catch (IOException e) {
      return List.of("the body is not JSON: " + abbreviate(body));
    }
    if (json == null || json.isMissingNode()) return List.of("the body is empty; the document wants JSON");
    JsonNode schemaNode = content.get(mediaType).get("schema");
    if (schemaNode == null) return List.of();
    JsonSchema schema = schemas.computeIfAbsent(schemaNode.toString(), k -> compile(schemaNode));
    TreeSet<String> problems = new TreeSet<>();
    for (ValidationMessage m : schema.validate(json)) problems.add(m.getMessage());
    return List.copyOf(problems);
  }

  /**
   * What is wrong with one text frame a WebSocket operation's server sent, judged by the operation's
   * {@code x-websocket-frames.server} schema; empty when it conforms.
   */
  public List<String> checkFrame(String method, String path, JsonNode frame) {
    Operation op = find(method, path).orElseThrow(() -> new IllegalArgumentException("no operation " + method + " " + path));
    JsonNode schemaNode = op.node().path("x-websocket-frames").get("server");
    if (schemaNode == null) return List.of(op + " documents no WebSocket frames");
    JsonSchema schema = schemas.computeIfAbsent(schemaNode.toString(), k -> compile(schemaNode));
    TreeSet<String> problems = new TreeSet<>();
    for (ValidationMessage m : schema.validate(frame)) problems.add(m.getMessage());
    return List.copyOf(problems);
  }

  /** A schema of the document, compiled with the document's components beside it so its $refs resolve. */
  private JsonSchema compile(JsonNode schema) {
    ObjectNode wrapper = JSON.createObjectNode();
    wrapper.put("$schema", DIALECT);
    wrapper.set("components", root.get("components"));
    wrapper.set("allOf", JSON.createArrayNode().add(schema));
    return factory.getSchema(wrapper);
  }

  private JsonNode resolve(JsonNode node) {
    JsonNode n = node;
    for (int depth = 0; n != null && n.has("$ref") && depth < 10; depth++) {
      String ref = n.get("$ref").asText();
      if (!ref.startsWith("#")) throw new IllegalStateException("only local $refs are supported: " + ref);
      n = root.at(ref.substring(1));
      if (n.isMissingNode()) throw new IllegalStateException("dangling $ref " + ref);
    }
    return n;
  }

  private static String header(Map<String, List<String>> headers, String name) {
    for (Map.Entry<String, List<String>> h : headers.entrySet()) {
      if (h.getKey() != null && h.getKey().equalsIgnoreCase(name) && !h.getValue().isEmpty()) return h.getValue().get(0);
    }
    return null;
  }

  private static String messageOf(String body) {
    try {
      return JSON.readTree(body).path("error").path("message").asText("");
    } catch (IOException e) {
      return "";
    }
  }

  private static String abbreviate(String s) {
    return s == null ? "null" : s.length() <= 300 ? s : s.substring(0, 300) + "…";
  }
}
