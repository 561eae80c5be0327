package imsync.client.demo;

import imsync.client.Badges;
import imsync.client.ClientListener;
import imsync.client.ClientState;
import imsync.client.Group;
import imsync.client.ImsyncClient;
import imsync.client.InMemoryStore;
import imsync.client.Json;
import imsync.client.MirrorSnapshot;
import imsync.client.MirrorStore;
import imsync.client.Session;
import imsync.client.SqliteStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code ./imsync client ACCOUNT}: the folders and the live list of one account in the terminal, on the SDK.
 * Type a line and Enter: a number picks a folder; {@code r N} reads row N, {@code u N} marks it unread,
 * {@code a N} moves it between inbox and archive, {@code p N} pins or unpins it in the folder, {@code m N}
 * mutes it for an hour (or unmutes), {@code d N text} sets its draft, {@code q} quits. With
 * {@code --dump FILE} it syncs until live, writes the mirror as JSON to FILE and exits.
 */
public final class TerminalDemo {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("MM-dd HH:mm").withZone(ZoneId.systemDefault());

  private volatile ImsyncClient client; // set once built: the client needs the demo's listener first
  private final String account;
  private final PrintStream out;
  private volatile int folder; // 0: all; i: the i-th group
  private volatile String message = "";
  private final AtomicBoolean renderPending = new AtomicBoolean();
  private final ScheduledExecutorService painter = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "imsync-demo-render");
    t.setDaemon(true);
    return t;
  });

  TerminalDemo(String account, PrintStream out) {
    this.account = account;
    this.out = out;
  }

  public static void main(String[] args) throws Exception {
    String url = "http://127.0.0.1:8080";
    String token = System.getenv("IMSYNC_TOKEN");
    String account = "me";
    String storePath = null;
    String dump = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--url": url = args[++i]; break;
        case "--token": token = args[++i]; break;
        case "--account": account = args[++i]; break;
        case "--store": storePath = args[++i]; break;
        case "--dump": dump = args[++i]; break;
        default:
          System.err.println("usage: TerminalDemo --url URL --token DEVICE_TOKEN [--account NAME] [--store FILE] [--dump FILE]");
          System.exit(2);
      }
    }
    if (token == null) {
      System.err.println("a device token is needed (--token or IMSYNC_TOKEN)");
      System.exit(2);
    }
    MirrorStore store = storePath == null ? new InMemoryStore() : new SqliteStore(Path.of(storePath));
    String finalToken = token;
    if (dump != null) {
      System.exit(dump(ImsyncClient.builder(url, () -> finalToken).store(store).build(), Path.of(dump)));
    }
    TerminalDemo demo = new TerminalDemo(account, System.out);
    demo.client = ImsyncClient.builder(url, () -> finalToken).store(store).listener(demo.repaintOnChange()).build();
    demo.run();
  }

  /** Syncs until live with nothing queued, writes the mirror and returns the exit code. */
  static int dump(ImsyncClient client, Path file) throws IOException {
    try (client) {
      client.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!(client.state().kind == ClientState.Kind.LIVE && client.snapshot().pending.isEmpty())) {
        if (System.nanoTime() > deadline) {
          System.err.println("not live after 60 s: " + client.state());
          return 1;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // poll interval
      }
      MirrorSnapshot s = client.snapshot();
      Files.writeString(file, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(s.toJson()), StandardCharsets.UTF_8);
      System.err.println("wrote " + s.sessions.size() + " sessions and " + s.groups.size() + " groups (version " + s.version + ") to " + file);
      return 0;
    }
  }

  /** The demo's listener: every state, page and badge change asks for a repaint. */
  private ClientListener repaintOnChange() {
    return new ClientListener() {
      @Override
      public void onState(ClientState state) {
        requestRender();
      }

      @Override
      public void onBadges(Badges badges) {
        requestRender();
      }

      @Override
      public void onPage(imsync.client.SyncPage page, ClientState.Transport via) {
        requestRender();
      }
    };
  }

  private void run() throws IOException {
    client.start();
    requestRender();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      line = line.trim();
      if (line.equals("q")) break;
      try {
        message = command(line);
      } catch (RuntimeException e) {
        message = "? " + e.getMessage();
      }
      requestRender();
    }
    client.close();
    painter.shutdownNow();
  }

  private void requestRender() {
    if (client == null || !renderPending.compareAndSet(false, true)) return;
    // repaints are coalesced: a burst of frames is one repaint
    painter.schedule(() -> {
      renderPending.set(false);
      out.print("\033[H\033[2J" + render(account, client.state(), client.snapshot().version, client.groups(), client.badges(), folder,
          rows(), message));
      out.flush();
    }, 50, TimeUnit.MILLISECONDS);
  }

  private List<Session> rows() {
    String g = folderId();
    return client.view(g).current();
  }

  private String folderId() {
    List<Group> groups = client.groups();
    return folder == 0 || folder > groups.size() ? null : groups.get(folder - 1).id();
  }

  private String command(String line) {
    if (line.isEmpty()) return "";
    if (line.matches("\\d+")) {
      folder = Integer.parseInt(line);
      return "";
    }
    String[] parts = line.split("\\s+", 3);
    if (parts.length < 2) return "? r N, u N, a N, p N, m N, d N text, a folder number, or q";
    List<Session> rows = rows();
    int n = Integer.parseInt(parts[1]);
    if (n < 1 || n > rows.size()) return "? no row " + n;
    Session s = rows.get(n - 1);
    switch (parts[0]) {
      case "r": client.markRead(s.id(), s.lastSeq()); return "read " + s.id();
      case "u": client.markUnread(s.id()); return "marked unread " + s.id();
      case "a": client.moveToBox(s.id(), s.box().equals(Group.INBOX) ? Group.ARCHIVE : Group.INBOX); return "moved " + s.id();
      case "m": client.mute(s.id(), s.mutedUntil() > System.currentTimeMillis() ? 0 : System.currentTimeMillis() + 3_600_000); return "mute " + s.id();
      case "d": client.setDraft(s.id(), parts.length > 2 ? parts[2] : ""); return "draft " + s.id();
      case "p": {
        String g = folderId() == null ? Group.INBOX : folderId();
        boolean pinned = client.groups().stream().filter(x -> x.id().equals(g)).anyMatch(x -> x.pinned().contains(s.id()));
        if (pinned) client.unpin(g, s.id());
        else client.pin(g, s.id());
        return (pinned ? "unpinned " : "pinned ") + s.id() + " in " + g;
      }
      default: return "? unknown command " + parts[0];
    }
  }

  /** One screen: a header with the state and total badge, the folders with badges, the rows of the folder. */
  static String render(String account, ClientState state, long version, List<Group> groups, Badges badges, int folder,
                       List<Session> rows, String message) {
    StringBuilder b = new StringBuilder();
    b.append("imsync · ").append(account).append(" · ").append(state).append(" · v").append(version)
        .append(" · unread ").append(badges.total.unreadSessions).append(" chats / ").append(badges.total.unreadMessages).append(" messages\n");
    List<String> tabs = new ArrayList<>();
    tabs.add(tab(0, folder, "All", badges.total));
    for (int i = 0; i < groups.size(); i++) tabs.add(tab(i + 1, folder, groups.get(i).name(), badges.groups.get(groups.get(i).id())));
    b.append(String.join("  ", tabs)).append('\n');
    List<String> pinned = folder == 0 || folder > groups.size() ? List.of() : groups.get(folder - 1).pinned();
    b.append("-".repeat(78)).append('\n');
    int shown = Math.min(rows.size(), 20);
    for (int i = 0; i < shown; i++) {
      Session s = rows.get(i);
      String flags = (pinned.contains(s.id()) ? "^" : " ") + (s.mutedUntil() > System.currentTimeMillis() ? "~" : " ")
          + (s.markedUnread() ? "!" : " ");
      String badge = s.unreadCount() > 0 ? "(" + s.unreadCount() + ")" : "";
      String preview = s.draftText() != null ? "[draft] " + s.draftText() : s.lastPreview();
      b.append(String.format("%3d %s %-18.18s %6s  %-30.30s %s%n", i + 1, flags, s.title().isEmpty() ? s.id() : s.title(), badge, preview,
          TIME.format(Instant.ofEpochMilli(s.sortKey()))));
    }
    if (rows.size() > shown) b.append("    … ").append(rows.size() - shown).append(" more\n");
    if (rows.isEmpty()) b.append("    (no chats here)\n");
    b.append("-".repeat(78)).append('\n');
    b.append("folder: number · r N read · u N unread · a N archive/inbox · p N pin · m N mute · d N text draft · q quit\n");
    if (!message.isEmpty()) b.append(message).append('\n');
    b.append("> ");
    return b.toString();
  }

  private static String tab(int index, int selected, String name, Badges.Count count) {
    String badge = count == null || count.unreadSessions == 0 ? "" : " " + count.unreadSessions;
    String label = "[" + index + "] " + name + badge;
    return index == selected ? "*" + label + "*" : label;
  }
}
