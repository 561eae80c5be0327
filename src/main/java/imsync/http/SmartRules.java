package imsync.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.core.Box;
import imsync.core.SmartRule;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/** Reading and writing a smart folder's {@code rule} (v1.1): strict, every error names the field. */
final class SmartRules {
  private static final Set<String> FIELDS =
      Set.of("unread", "mentioned", "kinds", "box", "in_groups", "not_in_groups", "include", "exclude");
  private static final Set<String> KINDS = Set.of("direct", "group", "channel", "system");

  private SmartRules() {}

  /** The body's {@code rule}, or null when absent (or null). */
  static SmartRule optional(JsonNode body) {
    if (!Json.present(body, "rule")) return null;
    JsonNode r = body.get("rule");
    if (!r.isObject()) throw ApiException.invalid("rule must be an object");
    for (Iterator<String> it = r.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) throw ApiException.invalid("rule." + f + " is not a rule field");
    }
    Boolean unread = bool(r, "unread");
    Boolean mentioned = bool(r, "mentioned");
    List<String> kinds = list(r, "kinds", 1, SmartRule.MAX_KINDS);
    if (kinds != null) for (String k : kinds) if (!KINDS.contains(k)) throw ApiException.invalid("rule.kinds: \"" + k + "\" is not direct, group, channel or system");
    String box = Json.optionalString(r, "box");
    if (box != null && !Box.isBox(box)) throw ApiException.invalid("rule.box must be \"inbox\" or \"archive\"");
    List<String> inGroups = groups(r, "in_groups");
    List<String> notInGroups = groups(r, "not_in_groups");
    List<String> include = sessions(r, "include");
    List<String> exclude = sessions(r, "exclude");
    return new SmartRule(unread, mentioned, kinds, box, inGroups, notInGroups, include, exclude);
  }

  private static Boolean bool(JsonNode r, String field) {
    if (!Json.present(r, field)) return null;
    JsonNode v = r.get(field);
    if (!v.isBoolean()) throw ApiException.invalid("rule." + field + " must be true or false");
    return v.booleanValue();
  }

  private static List<String> list(JsonNode r, String field, int min, int max) {
    return Json.present(r, field) ? Json.stringList(r.get(field), "rule." + field, min, max) : null;
  }

  private static List<String> groups(JsonNode r, String field) {
    List<String> ids = list(r, field, 0, SmartRule.MAX_GROUPS);
    if (ids != null) for (String id : ids) Json.id(id, Json.CUSTOM_GROUP_ID, "rule." + field);
    return ids;
  }

  private static List<String> sessions(JsonNode r, String field) {
    List<String> ids = list(r, field, 0, SmartRule.MAX_OVERRIDES);
    if (ids != null) for (String id : ids) Json.id(id, Json.SESSION_ID, "rule." + field);
    return ids;
  }

  /** The rule as stored: fields that were absent stay absent. */
  static ObjectNode write(SmartRule rule) {
    ObjectNode n = JsonViews.object();
    if (rule.unread() != null) n.put("unread", rule.unread());
    if (rule.mentioned() != null) n.put("mentioned", rule.mentioned());
    if (rule.kinds() != null) JsonViews.strings(n.putArray("kinds"), rule.kinds());
    if (rule.box() != null) n.put("box", rule.box());
    if (rule.inGroups() != null) JsonViews.strings(n.putArray("in_groups"), rule.inGroups());
    if (rule.notInGroups() != null) JsonViews.strings(n.putArray("not_in_groups"), rule.notInGroups());
    if (rule.include() != null) JsonViews.strings(n.putArray("include"), rule.include());
    if (rule.exclude() != null) JsonViews.strings(n.putArray("exclude"), rule.exclude());
    return n;
  }
}
