package imsync.core;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encodes cursors as compact, opaque, tamper-evident strings: a small binary form plus a truncated
 * HMAC-SHA256 over the account id and that form, in base64url. A cursor edited by hand, or sent for
 * another account, fails the MAC and is rejected as invalid.
 */
public final class CursorCodec {
  private static final byte FORMAT_1 = 1;
  /** 2: a first-sync cursor carries the pinned hash ({@link Cursor.First#legacyPinnedHash}). */
  private static final byte FORMAT_2 = 2;
  /** 3: format 2 plus the group progress of a byte-budgeted run ({@link Cursor#groupsAfter()}), at the end. */
  private static final byte FORMAT_3 = 3;
  /**
  /**
   * 4: a first-sync cursor without the pinned hash (its pins are those as of its snapshot version, from the
   * account's pin history); 5: format 4 plus group progress. Cursors of runs begun under formats 1–3 are
   * still written in their format (2 or 3) until the run ends, so they keep their hash; delta cursors too.
   */
  private static final byte FORMAT_4 = 4;
  private static final byte FORMAT_5 = 5;
  /**
   * Set on the format byte when the account was ever erased: its incarnation (a varint) follows that byte.
   * Cursors of a never-erased account stay as they were, byte for byte.
   */
  private static final int INCARNATION_FLAG = 0x10;
  private static final byte FIRST = 1;
  private static final byte DELTA = 2;
  private static final int MAC_BYTES = 12;

  private final SecretKeySpec key;
  /**
   * One keyed Mac per thread: {@code Mac.getInstance} looks up providers and {@code init} derives the key
   * pads, which cost more than the MAC of a cursor itself. A Mac resets after {@code doFinal}.
   */
  private final ThreadLocal<Mac> macs;

  public CursorCodec(byte[] secret) {
    this.key = new SecretKeySpec(secret.length == 0 ? new byte[1] : secret.clone(), "HmacSHA256");
    this.macs = ThreadLocal.withInitial(this::newMac);
  }

  /** Thrown for a cursor that does not decode or does not belong to the account. */
  public static final class InvalidCursorException extends Exception {
    public InvalidCursorException(String message) {
      super(message);
    }
  }

  /** A decoded cursor and the incarnation of the account it was issued in (see {@link AccountState#incarnation()}). */
  public record Issued(long incarnation, Cursor cursor) {}

  public String encode(String accountId, Cursor cursor) {
    return encode(accountId, 0, cursor);
  }

  public String encode(String accountId, long incarnation, Cursor cursor) {
    byte[] body = body(incarnation, cursor);
    byte[] mac = mac(accountId, body);
    byte[] all = Arrays.copyOf(body, body.length + MAC_BYTES);
    System.arraycopy(mac, 0, all, body.length, MAC_BYTES);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(all);
  }

  /** The length of {@link #encode}'s string for this cursor (for any account: the MAC has a fixed size). */
  public static int encodedChars(Cursor cursor) {
    return encodedChars(cursor, 0);
  }

  public static int encodedChars(Cursor cursor, long incarnation) {
    int bytes = body(incarnation, cursor).length + MAC_BYTES;
    return (bytes * 4 + 2) / 3; // base64 without padding
  }

  /**
   * An upper bound of {@link #encodedChars} for any cursor whose session id has at most {@code idChars}
   * characters and whose group progress id (if any; 0: none) at most {@code groupIdChars}, all numbers at
   * their longest (an incarnation included). Ids are ASCII (their patterns), one byte a character.
   */
  public static int maxEncodedChars(int idChars, int groupIdChars) {
    int head = 1 + 10 + 4 + 10 + 1;
    int first = 10 + 5 + 1 + 10 + 2 + idChars + 8;
    int delta = 10 + 1 + 2 + idChars + 10;
    int groups = groupIdChars > 0 ? 10 + 2 + groupIdChars : 0;
    int bytes = head + Math.max(first, delta) + groups + MAC_BYTES;
    return (bytes * 4 + 2) / 3;
  }

  private static byte[] body(long incarnation, Cursor cursor) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(48);
      DataOutputStream out = new DataOutputStream(bytes);
      boolean legacy = cursor instanceof Cursor.First run && run.legacyPinnedHash() != null;
      boolean hashless = cursor instanceof Cursor.First && !legacy;
      boolean groups = cursor.groupsAfter() != null;
      // a delta is the same in every format: written as 2/3, which nodes of the previous version read too
      // (a rolling upgrade then only restarts the first syncs that cross it)
      int format = hashless ? (groups ? FORMAT_5 : FORMAT_4) : (groups ? FORMAT_3 : FORMAT_2);
      if (incarnation != 0) {
        out.writeByte(format | INCARNATION_FLAG);
        writeVar(out, incarnation);
      } else {
        out.writeByte(format);
      }
      out.writeInt(cursor.viewHash());
      writeVar(out, cursor.groupsVersion());
      if (cursor instanceof Cursor.First f) {
        out.writeByte(FIRST);
        writeVar(out, f.snapshotVersion());
        writeVar(out, f.pinnedOffset());
        out.writeBoolean(f.walkAfter() != null);
        if (f.walkAfter() != null) {
          writeVar(out, f.walkAfter().sortKey());
          out.writeUTF(f.walkAfter().sessionId());
        }
        if (legacy) out.writeLong(f.legacyPinnedHash());
      } else {
        Cursor.Delta d = (Cursor.Delta) cursor;
        out.writeByte(DELTA);
        writeVar(out, d.after().version());
        out.writeBoolean(d.after().sessionId() != null);
        if (d.after().sessionId() != null) out.writeUTF(d.after().sessionId());
        writeVar(out, d.after().version() - d.base()); // small: how far this run of pages has come
      }
      if (cursor.groupsAfter() != null) {
        writeVar(out, cursor.groupsAfter().version());
        out.writeUTF(cursor.groupsAfter().sessionId());
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public Cursor decode(String accountId, String text) throws InvalidCursorException {
    return read(accountId, text).cursor();
  }

  /** Decodes a cursor with the incarnation it was issued in. */
  public Issued read(String accountId, String text) throws InvalidCursorException {
    byte[] all;
    try {
      all = Base64.getUrlDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new InvalidCursorException("cursor is not a cursor this server issued");
    }
    if (all.length <= MAC_BYTES) throw new InvalidCursorException("cursor is not a cursor this server issued");
    byte[] body = Arrays.copyOf(all, all.length - MAC_BYTES);
    byte[] given = Arrays.copyOfRange(all, all.length - MAC_BYTES, all.length);
    if (!MessageDigest.isEqual(given, Arrays.copyOf(mac(accountId, body), MAC_BYTES))) {
      throw new InvalidCursorException("cursor was not issued for this account or was altered");
    }
    try {
      DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(body));
      int flagged = in.readUnsignedByte();
      long incarnation = (flagged & INCARNATION_FLAG) != 0 ? readVar(in) : 0;
      byte format = (byte) (flagged & ~INCARNATION_FLAG);
      if (format < FORMAT_1 || format > FORMAT_5) throw new InvalidCursorException("cursor format is not supported");
      int view = in.readInt();
      long groupsVersion = readVar(in);
      byte type = in.readByte();
      if (type == FIRST) {
        long snapshot = readVar(in);
        int pinned = (int) readVar(in);
        SortEntry after = in.readBoolean() ? new SortEntry(readVar(in), in.readUTF()) : null;
        Long pinnedHash = null;
        if (format == FORMAT_1) pinnedHash = Cursor.NO_PINNED_HASH;
        else if (format <= FORMAT_3) pinnedHash = in.readLong();
        return new Issued(incarnation, new Cursor.First(view, groupsVersion, snapshot, pinned, after, pinnedHash, groupsAfter(format, in)));
      } else if (type == DELTA) {
        long version = readVar(in);
        String id = in.readBoolean() ? in.readUTF() : null;
        long base = version - readVar(in);
        return new Issued(incarnation, new Cursor.Delta(view, groupsVersion, new VersionKey(version, id), base, groupsAfter(format, in)));
      }
      throw new InvalidCursorException("cursor format is not supported");
    } catch (IOException e) {
      throw new InvalidCursorException("cursor is not a cursor this server issued");
    }
  }

  private static VersionKey groupsAfter(byte format, DataInputStream in) throws IOException {
    if (format != FORMAT_3 && format != FORMAT_5) return null;
    long version = readVar(in);
    return new VersionKey(version, in.readUTF());
  }

  /** Zig-zag varint: small numbers (most versions, -1) take one or two bytes. */
  private static void writeVar(DataOutputStream out, long value) throws IOException {
    long v = (value << 1) ^ (value >> 63);
    while ((v & ~0x7FL) != 0) {
      out.writeByte((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.writeByte((int) v);
  }

  private static long readVar(DataInputStream in) throws IOException {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = in.readUnsignedByte();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) return (v >>> 1) ^ -(v & 1);
    }
    throw new IOException("varint too long");
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private byte[] mac(String accountId, byte[] body) {
    Mac mac = macs.get();
    mac.update(accountId.getBytes(StandardCharsets.UTF_8));
    mac.update((byte) 0);
    mac.update(body);
    return mac.doFinal();
  }
}
