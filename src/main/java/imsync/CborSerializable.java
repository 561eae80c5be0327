package imsync;

/** Marker for everything that crosses the wire or hits the journal: bound to Akka's Jackson CBOR serializer in config. */
public interface CborSerializable {}
