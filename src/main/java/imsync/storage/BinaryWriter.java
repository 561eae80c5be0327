package imsync.storage;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A growable byte buffer with the primitives of imsync's binary formats: unsigned and zig-zag varints,
 * and strings written once and referred to by number afterwards (a strings table built as it goes), each
 * char in modified UTF-8 so any Java string, even one with a lone surrogate, comes back unchanged.
 */
final class BinaryWriter {
  private byte[] buf;
  private int size;
  private final Map<String, Integer> strings = new HashMap<>();

  BinaryWriter(int initialCapacity) {
    buf = new byte[Math.max(16, initialCapacity)];
  }

  int size() {
    return size;
  }

  byte[] array() {
    return buf;
  }

  byte[] toByteArray() {
    return Arrays.copyOf(buf, size);
  }

  private void ensure(int more) {
    if (size + more > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
  }

  void writeByte(int b) {
    ensure(1);
    buf[size++] = (byte) b;
  }

  void writeBytes(byte[] b, int off, int len) {
    ensure(len);
    System.arraycopy(b, off, buf, size, len);
    size += len;
  }

  void writeBoolean(boolean b) {
    writeByte(b ? 1 : 0);
  }

  /** Unsigned LEB128; negative values take 10 bytes (use {@link #writeSigned} for those). */
  void writeUnsigned(long v) {
    ensure(10);
    while ((v & ~0x7FL) != 0) {
      buf[size++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[size++] = (byte) v;
  }

  void writeSigned(long v) {
    writeUnsigned((v << 1) ^ (v >> 63));
  }

  /** null, a string seen before (by its number), or a new one (which gets the next number). */
  void writeString(String s) {
    if (s == null) {
      writeUnsigned(0);
      return;
    }
    Integer ref = strings.get(s);
    if (ref != null) {
      writeUnsigned(ref + 2L);
      return;
    }
    strings.put(s, strings.size());
    writeUnsigned(1);
    int n = s.length();
    writeUnsigned(n);
    ensure(n * 3);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c != 0 && c < 0x80) {
        buf[size++] = (byte) c;
      } else if (c < 0x800) {
        buf[size++] = (byte) (0xC0 | (c >> 6));
        buf[size++] = (byte) (0x80 | (c & 0x3F));
      } else {
        buf[size++] = (byte) (0xE0 | (c >> 12));
        buf[size++] = (byte) (0x80 | ((c >> 6) & 0x3F));
        buf[size++] = (byte) (0x80 | (c & 0x3F));
      }
    }
  }
}
