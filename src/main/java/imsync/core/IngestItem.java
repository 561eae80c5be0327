package imsync.core;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import imsync.CborSerializable;
import java.util.List;

/** One validated ingest event as every recipient account sees it (recipients already split off). */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "t")
@JsonSubTypes({
  @JsonSubTypes.Type(value = IngestItem.Message.class, name = "message"),
  @JsonSubTypes.Type(value = IngestItem.Update.class, name = "session_update"),
  @JsonSubTypes.Type(value = IngestItem.Removed.class, name = "session_removed"),
})
public sealed interface IngestItem extends CborSerializable {
  String sessionId();

  long ts();

  /** kind and title are null when the event did not give them; preview is already truncated. */
  record Message(String sessionId, String kind, String title, long seq, String senderId, String preview, long ts,
                 List<String> mentions) implements IngestItem {}

  record Update(String sessionId, String kind, String title, long ts) implements IngestItem {}

  record Removed(String sessionId, long ts) implements IngestItem {}
}
