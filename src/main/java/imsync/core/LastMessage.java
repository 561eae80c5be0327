package imsync.core;

/** The message with the highest seq an account has seen in a session. */
public record LastMessage(long seq, String senderId, String preview, long ts) {}
