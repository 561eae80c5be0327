package imsync.core;

/** The two system groups; every session is in exactly one. */
public final class Box {
  public static final String INBOX = "inbox";
  public static final String ARCHIVE = "archive";

  private Box() {}

  public static boolean isBox(String id) {
    return INBOX.equals(id) || ARCHIVE.equals(id);
  }
}
