package imsync.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay between two loopback addresses that a test can cut: every relayed connection is closed and
 * new ones are refused (the listening socket closes) until it heals. FaultsMultiJvmTest sends all of one
 * imsync node's cluster traffic, both ways, through such relays, so cutting them partitions that node off
 * without touching the kernel's firewall; LimitsAndOutagesTest puts one between a node and Cassandra.
 */
public final class TcpRelay implements AutoCloseable {
  private final InetSocketAddress listen;
  private final InetSocketAddress target;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private volatile ServerSocket server;

  public TcpRelay(String listenHost, int listenPort, String targetHost, int targetPort) {
    this.listen = new InetSocketAddress(listenHost, listenPort);
    this.target = new InetSocketAddress(targetHost, targetPort);
  }

  /** Starts accepting (again). */
  public synchronized TcpRelay open() {
    if (server != null) return this;
    try {
      ServerSocket s = new ServerSocket();
      s.setReuseAddress(true); // reopened on the same port after a cut, with connections in TIME_WAIT
      s.bind(listen);
      server = s;
      Thread acceptor = new Thread(() -> accept(s), "relay-accept-" + listen.getPort());
      acceptor.setDaemon(true);
      acceptor.start();
    } catch (IOException e) {
      throw new IllegalStateException("relay cannot listen on " + listen, e);
    }
    return this;
  }

  /** Closes every relayed connection and refuses new ones. */
  public synchronized void cut() {
    ServerSocket s = server;
    server = null;
    closeQuietly(s);
    for (Socket socket : sockets) closeQuietly(socket);
    sockets.clear();
  }

  @Override
  public void close() {
    cut();
  }

  private void accept(ServerSocket s) {
    while (!s.isClosed()) {
      Socket in;
      try {
        in = s.accept();
      } catch (IOException e) {
        return; // closed by cut()
      }
      Socket out = new Socket();
      try {
        out.connect(target, 2000);
      } catch (IOException e) {
        closeQuietly(in);
        closeQuietly(out);
        continue;
      }
      sockets.add(in);
      sockets.add(out);
      if (server != s) { // cut while connecting
        closeQuietly(in);
        closeQuietly(out);
        continue;
      }
      pump(in, out);
      pump(out, in);
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[64 * 1024];
      try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
        for (int n; (n = i.read(buffer)) >= 0; ) o.write(buffer, 0, n);
      } catch (IOException e) {
        // the connection ended or was cut: close both ends below
      } finally {
        closeQuietly(from);
        closeQuietly(to);
        sockets.remove(from);
        sockets.remove(to);
      }
    }, "relay-" + listen.getPort());
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(java.io.Closeable c) {
    if (c == null) return;
    try {
      c.close();
    } catch (IOException e) {
      // already closed
    }
  }
}
