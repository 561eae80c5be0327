package imsync.peer;

import imsync.core.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.zip.CRC32;

/**
 * The peer's sync cursor: base64url of a few numbers, with a checksum over the account id so a cursor of
 * another account (or garbage) is refused. Not a secret: the benchmark peer does not need tamper-proofing.
 */
sealed interface PeerCursor {
  int PINNED_DONE = -1;

  /** The version up to which groups were sent ({@code -1}: none yet). */
  long groupsVersion();

  /**
   * A first sync in progress: started at version {@code base}; {@code pinnedOffset} into the pinned ids or
   * {@link #PINNED_DONE}; then the rank walk after ({@code score}, {@code sid}) ({@code sid} null: from the top),
   * skipping the pinned ids while their {@link imsync.core.SyncPlanner#pinnedHash} is {@code pinnedHash}.
   */
  record First(long base, long groupsVersion, int pinnedOffset, long score, String sid, long pinnedHash) implements PeerCursor {}

  /** A delta: every session change up to {@code after} has been sent. */
  record Delta(long after, long groupsVersion) implements PeerCursor {}

  static String encode(String account, PeerCursor c) {
    String payload = c instanceof First f
        ? "F|" + f.base() + "|" + f.groupsVersion() + "|" + f.pinnedOffset() + "|" + f.score() + "|" + (f.sid() == null ? "" : f.sid())
            + "|" + f.pinnedHash()
        : "D|" + ((Delta) c).after() + "|" + c.groupsVersion();
    String raw = payload + "|" + Long.toHexString(check(account, payload));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** Null for a first sync; a cursor that does not decode or belongs to another account: invalid_cursor. */
  static PeerCursor decode(String account, String token) {
    if (token == null) return null;
    try {
      String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      int bar = raw.lastIndexOf('|');
      String payload = raw.substring(0, bar);
      if (Long.parseUnsignedLong(raw.substring(bar + 1), 16) == check(account, payload)) {
        String[] p = payload.split("\\|", -1);
        if (p[0].equals("F") && p.length == 7) {
          First f = new First(Long.parseLong(p[1]), Long.parseLong(p[2]), Integer.parseInt(p[3]), Long.parseLong(p[4]),
              p[5].isEmpty() ? null : p[5], Long.parseLong(p[6]));
          if (f.base() >= 0 && f.groupsVersion() >= -1 && f.pinnedOffset() >= PINNED_DONE) return f;
        } else if (p[0].equals("D") && p.length == 3) {
          Delta d = new Delta(Long.parseLong(p[1]), Long.parseLong(p[2]));
          if (d.after() >= 0 && d.groupsVersion() >= 0) return d;
        }
      }
    } catch (RuntimeException ignored) {
      // falls through to the error
    }
    throw new PeerException(ErrorCode.INVALID_CURSOR, "cursor is not one this server issued for this account");
  }

  private static long check(String account, String payload) {
    CRC32 crc = new CRC32();
    crc.update((account + "\n" + payload).getBytes(StandardCharsets.UTF_8));
    return crc.getValue();
  }
}
