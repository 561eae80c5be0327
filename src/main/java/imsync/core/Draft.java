package imsync.core;

/** A device's unsent text; ts is server time when it was set. */
public record Draft(String text, long ts) {}
