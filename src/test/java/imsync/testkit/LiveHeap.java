package imsync.testkit;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;

/**
 * This JVM's live heap by class, from the HotSpot diagnostic command {@code GC.class_histogram} (what
 * {@code jcmd PID GC.class_histogram} prints): it runs a full GC first, so it counts reachable objects only.
 */
public final class LiveHeap {
  private static final Pattern ROW = Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
  private static final Pattern TOTAL = Pattern.compile("(?m)^Total\\s+(\\d+)\\s+(\\d+)");

  /** One class's instances and bytes. */
  public record Row(String className, long instances, long bytes) {}

  public final long totalBytes;
  public final Map<String, Row> byClass;

  private LiveHeap(long totalBytes, Map<String, Row> byClass) {
    this.totalBytes = totalBytes;
    this.byClass = byClass;
  }

  public static LiveHeap measure() {
    try {
      String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
          new Object[] {new String[0]}, new String[] {String[].class.getName()});
      Map<String, Row> rows = new HashMap<>();
      Matcher m = ROW.matcher(text);
      while (m.find()) rows.put(m.group(3), new Row(m.group(3), Long.parseLong(m.group(1)), Long.parseLong(m.group(2))));
      Matcher t = TOTAL.matcher(text);
      if (!t.find()) throw new IllegalStateException("no Total row in GC.class_histogram");
      return new LiveHeap(Long.parseLong(t.group(2)), rows);
    } catch (javax.management.JMException e) {
      throw new IllegalStateException("GC.class_histogram failed", e);
    }
  }

  /** The classes that grew most from {@code before} to this, largest first. */
  /**
   * Bytes added since {@code before}, class by class, ignoring classes that shrank: in a JVM shared with
   * other tests, the objects of one that just ended can go between two readings and hide what was added.
   * An upper bound of what the work in between keeps (anything else that grew counts too).
   */
  public long grownBytesSince(LiveHeap before) {
    long grown = 0;
    for (Row r : byClass.values()) {
      Row b = before.byClass.get(r.className());
      grown += Math.max(0, r.bytes() - (b == null ? 0 : b.bytes()));
    }
    return grown;
  }

  public List<Row> grownSince(LiveHeap before, int top) {
    List<Row> grown = new ArrayList<>();
    byClass.forEach((name, r) -> {
      Row b = before.byClass.get(name);
      long bytes = r.bytes() - (b == null ? 0 : b.bytes());
      long count = r.instances() - (b == null ? 0 : b.instances());
      if (bytes > 0) grown.add(new Row(name, count, bytes));
    });
    grown.sort((x, y) -> Long.compare(y.bytes(), x.bytes()));
    return grown.subList(0, Math.min(top, grown.size()));
  }
}
