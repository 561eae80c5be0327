package imsync.client;

import com.fasterxml.jackson.databind.JsonNode;

/** A smart folder's rule (API v1.1) evaluated locally, so a folder's list and badge follow offline edits too. */
final class SmartRule {
  private SmartRule() {}

  static boolean matches(JsonNode rule, Session s) {
    if (rule == null || !rule.isObject()) return true;
    String id = s.id();
    if (contains(rule.path("exclude"), id)) return false;
    if (contains(rule.path("include"), id)) return true;
    if (rule.has("unread") && rule.get("unread").asBoolean() != s.isUnread()) return false;
    if (rule.has("mentioned") && rule.get("mentioned").asBoolean() != (s.mentionCount() > 0)) return false;
    if (rule.has("kinds") && !contains(rule.get("kinds"), s.kind())) return false;
    if (rule.has("box") && !rule.get("box").asText().equals(s.box())) return false;
    if (rule.has("in_groups")) {
      boolean any = false;
      for (String g : s.groups()) any |= contains(rule.get("in_groups"), g);
      if (!any) return false;
    }
    if (rule.has("not_in_groups")) {
      for (String g : s.groups()) if (contains(rule.get("not_in_groups"), g)) return false;
    }
    return true;
  }

  private static boolean contains(JsonNode list, String value) {
    for (JsonNode v : list) if (value.equals(v.asText())) return true;
    return false;
  }
}
