package imsync.core;

/** One terminal of the account and how far it has acknowledged the account's history. */
public record Device(String deviceId, long firstSeenAt, long lastSeenAt, long ackedVersion) {

  /**
   * This device as seen again: earliest first sighting, latest last sighting, and the version of the
   * cursor it sent last (a device that syncs again from an older cursor is behind again).
   */
  public Device merge(Device newer) {
    return new Device(deviceId, Math.min(firstSeenAt, newer.firstSeenAt), Math.max(lastSeenAt, newer.lastSeenAt),
        newer.ackedVersion);
  }
}
