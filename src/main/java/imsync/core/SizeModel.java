package imsync.core;

/**
 * The byte sizes of a sync answer's parts as the writer sends them (UTF-8 JSON), so the planner can keep an
 * answer within a client's {@code max_bytes}. Implemented by the writer itself ({@code imsync.json.SyncJson}),
 * so a counted size is the written size exactly.
 *
 * <p>An answer is {@code envelope + entries + separators}: {@link #envelopeBytes} is the answer with every
 * array empty; each entry adds its own bytes, and one comma for each entry after the first of its array.
 */
public interface SizeModel {

  /** The JSON object of a session. */
  int sessionBytes(Session s);

  /** The JSON object of a group. */
  int groupBytes(Group g);

  /** A session or group id as a JSON string (quotes included), as in {@code removed_sessions}. */
  int idBytes(String id);

  /**
   * The answer with empty arrays, {@code has_more: false} (the longer of the two), and a cursor of
   * {@code cursorChars} characters.
   */
  int envelopeBytes(long version, boolean reset, int cursorChars);
}
