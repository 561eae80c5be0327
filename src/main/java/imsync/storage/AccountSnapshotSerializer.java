package imsync.storage;

import akka.actor.ExtendedActorSystem;
import akka.serialization.SerializerWithStringManifest;
import imsync.core.AccountSnapshot;
import java.io.NotSerializableException;

/**
 * Akka serializer of {@link AccountSnapshot} in the compact form of {@link SnapshotCodec}. Snapshots
 * stored before it (Jackson CBOR) name the Jackson serializer's id and stay readable through it.
 */
public final class AccountSnapshotSerializer extends SerializerWithStringManifest {
  /** Fixed for the life of the data: stored with every snapshot. */
  public static final int IDENTIFIER = 7_301_001;
  static final String MANIFEST_V1 = "S1";

  public AccountSnapshotSerializer(ExtendedActorSystem system) {}

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    return MANIFEST_V1;
  }

  @Override
  public byte[] toBinary(Object o) {
    if (o instanceof AccountSnapshot s) return SnapshotCodec.encode(s);
    throw new IllegalArgumentException("not an AccountSnapshot: " + o.getClass());
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    if (!MANIFEST_V1.equals(manifest)) throw new NotSerializableException("unknown snapshot manifest " + manifest);
    try {
      return SnapshotCodec.decode(bytes);
    } catch (IllegalArgumentException e) {
      NotSerializableException n = new NotSerializableException("corrupt snapshot: " + e.getMessage());
      n.initCause(e);
      throw n;
    }
  }
}
