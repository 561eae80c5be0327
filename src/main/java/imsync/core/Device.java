package imsync.core;

/** One terminal of the account and how far it has acknowledged the account's history. */
public record Device(String deviceId, long firstSeenAt, long lastSeenAt, long ackedVersion) {

  /** Progress only moves forward: later sighting, higher acknowledged version, earliest first sighting. */
  public Device merge(Device newer) {
    return new Device(deviceId, Math.min(firstSeenAt, newer.firstSeenAt), Math.max(lastSeenAt, newer.lastSeenAt),
        Math.max(ackedVersion, newer.ackedVersion));
  }
}
