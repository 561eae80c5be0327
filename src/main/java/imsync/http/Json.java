package imsync.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Strict reading of request bodies: JSON is parsed into a tree and each field is checked by hand, so every
 * error names the field and nothing is coerced ({@code "10"} or {@code 10.5} for an integer is a 400).
 */
public final class Json {
  public static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  public static final Pattern ACCOUNT_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
  public static final Pattern SESSION_ID = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");
  public static final Pattern CUSTOM_GROUP_ID = Pattern.compile("[a-z0-9_-]{1,32}");

  private Json() {}

  /** Parses a body that must be a JSON object; an empty body counts as {@code {}} when allowed. */
  public static JsonNode object(String body, boolean emptyIsObject) {
    if (body == null || body.isBlank()) {
      if (emptyIsObject) return MAPPER.createObjectNode();
      throw ApiException.invalidJson("request body must be a JSON object");
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw ApiException.invalidJson("request body is not valid JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) throw ApiException.invalidJson("request body must be a JSON object");
    return node;
  }

  public static boolean present(JsonNode obj, String field) {
    JsonNode v = obj.get(field);
    return v != null && !v.isNull();
  }

  public static long requireLong(JsonNode obj, String field, long min, long max) {
    if (!present(obj, field)) throw ApiException.invalid(field + " is required");
    return longValue(obj.get(field), field, min, max);
  }

  public static Long optionalLong(JsonNode obj, String field, long min, long max) {
    return present(obj, field) ? longValue(obj.get(field), field, min, max) : null;
  }

  public static long longValue(JsonNode v, String field, long min, long max) {
    if (!v.isIntegralNumber() || !v.canConvertToLong()) throw ApiException.invalid(field + " must be an integer");
    long n = v.longValue();
    if (n < min || n > max) throw ApiException.invalid(field + " must be between " + min + " and " + max);
    return n;
  }

  public static String requireString(JsonNode obj, String field) {
    if (!present(obj, field)) throw ApiException.invalid(field + " is required");
    return stringValue(obj.get(field), field);
  }

  public static String optionalString(JsonNode obj, String field) {
    return present(obj, field) ? stringValue(obj.get(field), field) : null;
  }

  public static String stringValue(JsonNode v, String field) {
    if (!v.isTextual()) throw ApiException.invalid(field + " must be a string");
    return v.textValue();
  }

  public static String id(String value, Pattern rule, String field) {
    if (value == null || !rule.matcher(value).matches()) {
      throw ApiException.invalid(field + " must match " + rule.pattern());
    }
    return value;
  }

  /** Length in code points, so a 256-char title may hold 256 emoji. */
  public static String maxLength(String value, int max, String field) {
    if (value.codePointCount(0, value.length()) > max) throw ApiException.invalid(field + " must be at most " + max + " characters");
    return value;
  }

  public static List<String> stringList(JsonNode v, String field, int min, int max) {
    if (!v.isArray()) throw ApiException.invalid(field + " must be an array of strings");
    if (v.size() < min || v.size() > max) throw ApiException.invalid(field + " must hold " + min + " to " + max + " entries");
    List<String> out = new ArrayList<>(v.size());
    for (int i = 0; i < v.size(); i++) out.add(stringValue(v.get(i), field + "[" + i + "]"));
    return out;
  }

  public static String truncateCodePoints(String s, int max) {
    if (s.codePointCount(0, s.length()) <= max) return s;
    return s.substring(0, s.offsetByCodePoints(0, max));
  }
}
