package imsync.core;

import java.util.List;

/**
 * The rule of a smart folder: every field that is set must hold (an empty rule matches every session);
 * {@code include}/{@code exclude} override the rest, {@code exclude} winning. Fields absent from the
 * request stay null, so the group object shows the rule as it was given. Validation (types, list sizes)
 * is the HTTP layer's; this only evaluates.
 */
public record SmartRule(Boolean unread, Boolean mentioned, List<String> kinds, String box, List<String> inGroups,
                        List<String> notInGroups, List<String> include, List<String> exclude) {

  public static final int MAX_KINDS = 16;
  public static final int MAX_GROUPS = 32;
  public static final int MAX_OVERRIDES = 100;

  public SmartRule {
    kinds = copy(kinds);
    inGroups = copy(inGroups);
    notInGroups = copy(notInGroups);
    include = copy(include);
    exclude = copy(exclude);
  }

  private static List<String> copy(List<String> l) {
    return l == null ? null : List.copyOf(l);
  }

  /** Whether the session is a member. O(size of the rule's lists): at most a few hundred comparisons. */
  public boolean matches(Session s) {
    String id = s.sessionId();
    if (exclude != null && exclude.contains(id)) return false;
    if (include != null && include.contains(id)) return true;
    if (unread != null && s.isUnread() != unread) return false;
    if (mentioned != null && (s.mentionCount() > 0) != mentioned) return false;
    if (kinds != null && !kinds.contains(s.kind())) return false;
    if (box != null && !box.equals(s.box())) return false;
    if (inGroups != null && inGroups.stream().noneMatch(s.groups()::contains)) return false;
    if (notInGroups != null && notInGroups.stream().anyMatch(s.groups()::contains)) return false;
    return true;
  }
}
