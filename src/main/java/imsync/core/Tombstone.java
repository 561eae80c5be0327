package imsync.core;

/**
 * What is left of a removed session: when it went (version, ts), and the seq it had, which decides
 * whether a later message brings it back and what its read_seq is then.
 */
public record Tombstone(String sessionId, long version, long lastSeq, long removedAt) {}
