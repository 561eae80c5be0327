package imsync.storage;

import java.util.ArrayList;
import java.util.List;

/** Reads what {@link BinaryWriter} wrote; a malformed input ends in {@link IllegalArgumentException}. */
final class BinaryReader {
  private final byte[] buf;
  private int pos;
  private final int end;
  private final List<String> strings = new ArrayList<>();

  BinaryReader(byte[] buf, int offset, int length) {
    this.buf = buf;
    this.pos = offset;
    this.end = offset + length;
  }

  boolean atEnd() {
    return pos == end;
  }

  int readByte() {
    if (pos >= end) throw new IllegalArgumentException("truncated input");
    return buf[pos++] & 0xFF;
  }

  boolean readBoolean() {
    return readByte() != 0;
  }

  long readUnsigned() {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = readByte();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw new IllegalArgumentException("malformed varint");
  }

  long readSigned() {
    long u = readUnsigned();
    return (u >>> 1) ^ -(u & 1);
  }

  /** A count of items to come: each takes at least one byte, so a count beyond the input is corrupt. */
  int readCount() {
    long n = readUnsigned();
    if (n > end - pos) throw new IllegalArgumentException("count " + n + " beyond the input");
    return (int) n;
  }

  int readInt() {
    long v = readSigned();
    if (v != (int) v) throw new IllegalArgumentException("int out of range");
    return (int) v;
  }

  private boolean isAscii(int from, int n) {
    for (int i = from; i < from + n; i++) if (buf[i] <= 0) return false; // 0 and >= 0x80 are multi-byte
    return true;
  }

  String readString() {
    long tag = readUnsigned();
    if (tag == 0) return null;
    if (tag >= 2) {
      long ref = tag - 2;
      if (ref >= strings.size()) throw new IllegalArgumentException("unknown string reference " + ref);
      return strings.get((int) ref);
    }
    int n = readCount();
    if (n <= end - pos && isAscii(pos, n)) {
      String s = new String(buf, pos, n, java.nio.charset.StandardCharsets.ISO_8859_1);
      pos += n;
      strings.add(s);
      return s;
    }
    char[] chars = new char[n];
    for (int i = 0; i < n; i++) {
      int b = readByte();
      if (b < 0x80) {
        chars[i] = (char) b;
      } else if ((b & 0xE0) == 0xC0) {
        chars[i] = (char) (((b & 0x1F) << 6) | (readByte() & 0x3F));
      } else {
        int b2 = readByte();
        chars[i] = (char) (((b & 0x0F) << 12) | ((b2 & 0x3F) << 6) | (readByte() & 0x3F));
      }
    }
    String s = new String(chars);
    strings.add(s);
    return s;
  }
}
