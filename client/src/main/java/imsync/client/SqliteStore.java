package imsync.client;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A store in one SQLite file (sqlite-jdbc): the mirror survives restarts and crashes. Each {@link #apply} and
 * {@link #enqueue} is one transaction (WAL journal, synchronous=FULL: a committed page or action is on disk).
 */
public final class SqliteStore implements MirrorStore {
  private final Connection db;

  public SqliteStore(Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
      try (Statement st = db.createStatement()) {
        st.execute("PRAGMA journal_mode=WAL");
        st.execute("PRAGMA synchronous=FULL");
        st.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        st.execute("CREATE TABLE IF NOT EXISTS sessions (session_id TEXT PRIMARY KEY, json TEXT NOT NULL)");
        st.execute("CREATE TABLE IF NOT EXISTS groups (group_id TEXT PRIMARY KEY, json TEXT NOT NULL)");
        st.execute("CREATE TABLE IF NOT EXISTS actions (id INTEGER PRIMARY KEY AUTOINCREMENT, json TEXT NOT NULL)");
      }
      db.setAutoCommit(false);
      db.commit();
    } catch (Exception e) {
      throw new StoreException("could not open " + file, e);
    }
  }

  /** A store failure: the SDK stops syncing (state error) rather than let the file and the mirror part ways. */
  public static final class StoreException extends RuntimeException {
    StoreException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  @Override
  public synchronized Snapshot load() {
    try {
      Map<String, Session> sessions = new LinkedHashMap<>();
      Map<String, Group> groups = new LinkedHashMap<>();
      String cursor = null;
      long version = 0;
      try (Statement st = db.createStatement()) {
        try (ResultSet rs = st.executeQuery("SELECT json FROM sessions")) {
          while (rs.next()) {
            Session s = new Session(Json.parse(rs.getString(1)));
            sessions.put(s.id(), s);
          }
        }
        try (ResultSet rs = st.executeQuery("SELECT json FROM groups")) {
          while (rs.next()) {
            Group g = new Group(Json.parse(rs.getString(1)));
            groups.put(g.id(), g);
          }
        }
        try (ResultSet rs = st.executeQuery("SELECT key, value FROM meta")) {
          while (rs.next()) {
            if (rs.getString(1).equals("cursor")) cursor = rs.getString(2);
            if (rs.getString(1).equals("version")) version = Long.parseLong(rs.getString(2));
          }
        }
      }
      db.commit();
      return new Snapshot(cursor, version, sessions, groups);
    } catch (SQLException e) {
      throw rollback("load", e);
    }
  }

  @Override
  public synchronized void apply(Batch b) {
    try {
      try (Statement st = db.createStatement()) {
        if (b.clear) {
          st.execute("DELETE FROM sessions");
          st.execute("DELETE FROM groups");
        }
      }
      try (PreparedStatement del = db.prepareStatement("DELETE FROM sessions WHERE session_id = ?")) {
        for (String id : b.removedSessions) {
          del.setString(1, id);
          del.addBatch();
        }
        del.executeBatch();
      }
      try (PreparedStatement put = db.prepareStatement("INSERT OR REPLACE INTO sessions (session_id, json) VALUES (?, ?)")) {
        for (Session s : b.upserts) {
          put.setString(1, s.id());
          put.setString(2, s.toString());
          put.addBatch();
        }
        put.executeBatch();
      }
      try (PreparedStatement del = db.prepareStatement("DELETE FROM groups WHERE group_id = ?")) {
        for (String id : b.removedGroups) {
          del.setString(1, id);
          del.addBatch();
        }
        del.executeBatch();
      }
      try (PreparedStatement put = db.prepareStatement("INSERT OR REPLACE INTO groups (group_id, json) VALUES (?, ?)")) {
        for (Group g : b.groupUpserts) {
          put.setString(1, g.id());
          put.setString(2, g.toString());
          put.addBatch();
        }
        put.executeBatch();
      }
      if (b.cursor != null) {
        try (PreparedStatement meta = db.prepareStatement("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")) {
          meta.setString(1, "cursor");
          meta.setString(2, b.cursor);
          meta.addBatch();
          meta.setString(1, "version");
          meta.setString(2, Long.toString(b.version));
          meta.addBatch();
          meta.executeBatch();
        }
      }
      db.commit();
    } catch (SQLException e) {
      throw rollback("apply", e);
    }
  }

  @Override
  public synchronized PendingAction enqueue(PendingAction action) {
    try (PreparedStatement put = db.prepareStatement("INSERT INTO actions (json) VALUES (?)", Statement.RETURN_GENERATED_KEYS)) {
      put.setString(1, action.toJson());
      put.executeUpdate();
      long id;
      try (ResultSet keys = put.getGeneratedKeys()) {
        keys.next();
        id = keys.getLong(1);
      }
      db.commit();
      return action.withId(id);
    } catch (SQLException e) {
      throw rollback("enqueue", e);
    }
  }

  @Override
  public synchronized List<PendingAction> pending() {
    List<PendingAction> out = new ArrayList<>();
    try (Statement st = db.createStatement(); ResultSet rs = st.executeQuery("SELECT id, json FROM actions ORDER BY id")) {
      while (rs.next()) out.add(PendingAction.fromJson(rs.getLong(1), rs.getString(2)));
      db.commit();
      return out;
    } catch (SQLException e) {
      throw rollback("pending", e);
    }
  }

  @Override
  public synchronized void remove(long actionId) {
    try (PreparedStatement del = db.prepareStatement("DELETE FROM actions WHERE id = ?")) {
      del.setLong(1, actionId);
      del.executeUpdate();
      db.commit();
    } catch (SQLException e) {
      throw rollback("remove", e);
    }
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      throw new StoreException("close", e);
    }
  }

  private StoreException rollback(String what, SQLException e) {
    try {
      db.rollback();
    } catch (SQLException suppressed) {
      e.addSuppressed(suppressed);
    }
    return new StoreException(what + " failed", e);
  }
}
