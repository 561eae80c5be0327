package imsync.core;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.TreeSet;
import java.util.zip.CRC32;

/**
 * What a sync looks at: the whole account ({@code groupIds == null}) or the sessions that are members of
 * at least one listed group. Order and repeats of the listed ids do not matter.
 */
public record View(List<String> groupIds) {

  public static final View ALL = new View(null);

  public View {
    groupIds = groupIds == null ? null : List.copyOf(new TreeSet<>(groupIds));
  }

  public boolean isAll() {
    return groupIds == null;
  }

  public boolean containsGroup(String groupId) {
    return groupIds == null || groupIds.contains(groupId);
  }

  /** The groups whose members make up the view (the two boxes cover the whole account). */
  public List<String> memberGroups() {
    return groupIds == null ? List.of(Box.INBOX, Box.ARCHIVE) : groupIds;
  }

  public boolean contains(Session s) {
    if (groupIds == null) return true;
    for (String g : groupIds) if (s.inGroup(g)) return true;
    return false;
  }

  /** Binds a cursor to its view: a cursor from another view resets instead of giving a wrong delta. */
  public int hash() {
    CRC32 crc = new CRC32();
    crc.update((groupIds == null ? "*" : "|" + String.join(",", groupIds)).getBytes(StandardCharsets.UTF_8));
    return (int) crc.getValue();
  }
}
