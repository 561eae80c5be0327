package imsync.core;

/**
 * Per-account limits and retention that the state enforces. Comes from config ({@code imsync.limits}),
 * not from events, so changing it never changes how history replays.
 */
public record Limits(int maxCustomGroups, int maxPinnedPerGroup, long tombstoneRetentionMillis, int tombstoneMinCount) {

  public static final int PREVIEW_MAX_CODE_POINTS = 512;

  public static Limits defaults() {
    return new Limits(32, 10, 7L * 24 * 3600 * 1000, 10_000);
  }
}
