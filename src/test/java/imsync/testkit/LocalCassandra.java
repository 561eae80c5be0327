package imsync.testkit;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit extension: a real Cassandra for the whole test run, started once (through cassandra/bin/start)
 * on the test port and stopped when the run ends. A Cassandra already answering on that port is reused
 * and left running.
 */
public final class LocalCassandra implements BeforeAllCallback {

  public static final int PORT = Integer.getInteger("imsync.test.cassandra.port", 19042);

  public static Path projectDir() {
    return Path.of(System.getProperty("imsync.project.dir", System.getProperty("user.dir")));
  }

  public static String contactPoint() {
    return "127.0.0.1:" + PORT;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(LocalCassandra.class.getName(), k -> Server.start(), Server.class);
  }

  /** The running server; closing it stops Cassandra if this run started it. */
  static final class Server implements ExtensionContext.Store.CloseableResource {
    private final boolean startedHere;

    private Server(boolean startedHere) {
      this.startedHere = startedHere;
    }

    static Server start() {
      if (listening()) return new Server(false);
      run("start");
      return new Server(true);
    }

    @Override
    public void close() {
      if (startedHere) run("stop");
    }
  }

  public static void stop() {
    run("stop");
  }

  public static void start() {
    run("start");
  }

  static boolean listening() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", PORT), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void run(String script) {
    Path dir = projectDir();
    ProcessBuilder pb = new ProcessBuilder(dir.resolve("cassandra/bin/" + script).toString())
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(new File(dir.resolve("target").toFile(), "cassandra-test-scripts.log")));
    Map<String, String> env = pb.environment();
    env.put("CASSANDRA_DATA", dir.resolve("target/cassandra-test").toString());
    env.put("CASSANDRA_CQL_PORT", Integer.toString(PORT));
    env.put("CASSANDRA_STORAGE_PORT", Integer.toString(PORT - 2000 + 1));
    env.put("CASSANDRA_JMX_PORT", Integer.toString(PORT - 2000 + 2));
    env.putIfAbsent("CASSANDRA_HEAP", "768m");
    try {
      int code = pb.start().waitFor();
      if (code != 0) {
        throw new IllegalStateException("cassandra/bin/" + script + " exited " + code + "; see target/cassandra-test-scripts.log");
      }
    } catch (IOException e) {
      throw new IllegalStateException("could not run cassandra/bin/" + script, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
