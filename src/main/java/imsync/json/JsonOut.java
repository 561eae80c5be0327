package imsync.json;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import imsync.core.Group;
import imsync.core.Session;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Collection;

/**
 * The one response writer: a streaming Jackson generator writing a body straight to UTF-8 bytes, with no
 * tree in between. Sessions and groups are written from their rendered bytes ({@link Rendered}), which
 * are made once per version and reused. Output is what Jackson writes for the equivalent tree: compact,
 * same key order, same escaping.
 *
 * <p>Use: {@code byte[] body = JsonOut.write(o -> o.startObject().field("version", v).endObject());}
 */
public final class JsonOut {
  static final JsonFactory FACTORY = new JsonFactory();

  /** What a route writes as its body. */
  @FunctionalInterface
  public interface Body {
    void writeTo(JsonOut out);
  }

  private final JsonGenerator g;

  private JsonOut(JsonGenerator g) {
    this.g = g;
  }

  /** Writes one body and returns its bytes. */
  public static byte[] write(Body body) {
    return write(body, 512);
  }

  /** {@code sizeHint}: the expected length, so a large answer is not copied while it grows. */
  public static byte[] write(Body body, int sizeHint) {
    ByteArrayBuilder bytes = new ByteArrayBuilder(null, Math.max(64, sizeHint));
    try (JsonGenerator g = FACTORY.createGenerator(bytes, JsonEncoding.UTF8)) {
      body.writeTo(new JsonOut(g));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The generator itself, for what the helpers below do not cover. */
  public JsonGenerator generator() {
    return g;
  }

  public JsonOut startObject() {
    try {
      g.writeStartObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  public JsonOut startObject(String field) {
    return name(field).startObject();
  }

  public JsonOut endObject() {
    try {
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  public JsonOut startArray(String field) {
    name(field);
    try {
      g.writeStartArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  public JsonOut endArray() {
    try {
      g.writeEndArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  public JsonOut name(String field) {
    try {
      g.writeFieldName(field);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** A string field; {@code null} is written as JSON null. */
  public JsonOut field(String field, String value) {
    try {
      g.writeStringField(field, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  public JsonOut field(String field, long value) {
    try {
      g.writeNumberField(field, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  public JsonOut field(String field, boolean value) {
    try {
      g.writeBooleanField(field, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  public JsonOut nullField(String field) {
    try {
      g.writeNullField(field);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** A string as an array element (or a field's value after {@link #name}). */
  public JsonOut value(String value) {
    try {
      g.writeString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** An array of strings. */
  public JsonOut strings(String field, Collection<String> values) {
    startArray(field);
    for (String v : values) value(v);
    return endArray();
  }

  /** A session object as an array element (or a field's value after {@link #name}). */
  public JsonOut session(Session s) {
    return raw(Rendered.session(s));
  }

  public JsonOut session(String field, Session s) {
    return name(field).session(s);
  }

  /** A group object as an array element (or a field's value after {@link #name}). */
  public JsonOut group(Group gr) {
    return raw(Rendered.group(gr));
  }

  public JsonOut group(String field, Group gr) {
    return name(field).group(gr);
  }

  /** A complete JSON value already rendered to UTF-8; the generator still writes the separator before it. */
  JsonOut raw(byte[] json) {
    try {
      g.writeRawValue(new RawJson(json));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** Hands rendered bytes to {@link JsonGenerator#writeRawValue(SerializableString)}: copied, never re-encoded. */
  private record RawJson(byte[] utf8) implements SerializableString {
    @Override
    public int appendUnquotedUTF8(byte[] buffer, int offset) {
      if (offset + utf8.length > buffer.length) return -1;
      System.arraycopy(utf8, 0, buffer, offset, utf8.length);
      return utf8.length;
    }

    @Override
    public byte[] asUnquotedUTF8() {
      return utf8;
    }

    @Override
    public int writeUnquotedUTF8(OutputStream out) throws IOException {
      out.write(utf8);
      return utf8.length;
    }

    @Override
    public int putUnquotedUTF8(ByteBuffer buffer) {
      if (buffer.remaining() < utf8.length) return -1;
      buffer.put(utf8);
      return utf8.length;
    }

    // the generator only asks a raw value for its unquoted UTF-8 bytes
    @Override
    public String getValue() {
      return new String(utf8, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public int charLength() {
      return getValue().length();
    }

    @Override
    public char[] asQuotedChars() {
      throw new UnsupportedOperationException();
    }

    @Override
    public byte[] asQuotedUTF8() {
      throw new UnsupportedOperationException();
    }

    @Override
    public int appendQuotedUTF8(byte[] buffer, int offset) {
      throw new UnsupportedOperationException();
    }

    @Override
    public int appendQuoted(char[] buffer, int offset) {
      throw new UnsupportedOperationException();
    }

    @Override
    public int appendUnquoted(char[] buffer, int offset) {
      throw new UnsupportedOperationException();
    }

    @Override
    public int writeQuotedUTF8(OutputStream out) {
      throw new UnsupportedOperationException();
    }

    @Override
    public int putQuotedUTF8(ByteBuffer buffer) {
      throw new UnsupportedOperationException();
    }
  }
}
