package imsync.client;

/**
 * Hooks for the app, its metrics and its logs, called on the client's own thread (keep them quick). Every
 * method has an empty default: implement the ones you need.
 */
public interface ClientListener {
  enum Level { DEBUG, INFO, WARN, ERROR }

  default void onState(ClientState state) {}

  /** A sync answer or stream frame was applied and stored. */
  default void onPage(SyncPage page, ClientState.Transport via) {}

  default void onBadges(Badges badges) {}

  /** A repair ran: {@code mismatchedBuckets} of {@code buckets} differed; {@code sessionsFixed} sessions came back. */
  default void onRepair(int buckets, int mismatchedBuckets, int sessionsFixed) {}

  /** The server answered a queued action: {@code accepted} false when it refused it for good (it is dropped). */
  default void onAction(PendingAction action, boolean accepted, String error) {}

  /** One HTTP request: its route name, its status (-1 when no answer came) and how long it took. */
  default void onRequest(String route, int status, long nanos) {}

  default void onLog(Level level, String message, Throwable error) {}
}
