package imsync.http;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public keys of a JWKS (a file or an http(s) URL), as a nimbus {@link JWKSource} whose {@link #get} never
 * does I/O: it selects from the last loaded snapshot. Loading happens on a background thread, at start, every
 * refresh interval, and early when a token names a key that is not in the snapshot (a rotation that was not
 * picked up yet). That early reload is rate limited, and the token that caused it is refused (401) rather than
 * waiting for it: a request never blocks on the network, the client's retry after the reload succeeds.
 *
 * <p>Why not nimbus' {@code JWKSourceBuilder}: its caching source reloads on an unknown kid on the calling
 * thread (and makes other callers wait on a lock for it), which here would be an Akka dispatcher thread.
 * Parsing, selection and the HTTP fetch (timeouts, size limit) are still nimbus'.
 */
public final class JwksKeys implements JWKSource<SecurityContext>, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JwksKeys.class);
  private static final int MAX_JWKS_BYTES = 1 << 20;
  private static final int MIN_RSA_BITS = 2048;

  /** Reads the whole JWKS, blocking; only ever called on the refresh thread (or a test's). */
  @FunctionalInterface
  public interface Loader {
    JWKSet load() throws IOException, ParseException;
  }

  private final String location;
  private final Loader loader;
  private final long missRefreshMillis;
  private final LongSupplier clockMillis;
  private final Executor refresher;
  private final ScheduledExecutorService ownScheduler;
  private final AtomicLong lastMissRefresh;
  private volatile JWKSet keys = new JWKSet();
  private volatile boolean loaded;
  private volatile Runnable onKeysRemoved = () -> {};

  /**
   * A key set loaded by {@code loader}; a kid miss runs a reload on {@code refresher} (at most once per
   * {@code missRefresh}). Nothing is loaded until {@link #reload} runs: {@link #start} schedules it.
   */
  public JwksKeys(String location, Loader loader, Duration missRefresh, LongSupplier clockMillis, Executor refresher) {
    this(location, loader, missRefresh, clockMillis, refresher, null);
  }

  private JwksKeys(String location, Loader loader, Duration missRefresh, LongSupplier clockMillis, Executor refresher,
      ScheduledExecutorService ownScheduler) {
    this.location = location;
    this.loader = loader;
    this.missRefreshMillis = missRefresh.toMillis();
    this.clockMillis = clockMillis;
    this.refresher = refresher;
    this.ownScheduler = ownScheduler;
    this.lastMissRefresh = new AtomicLong(clockMillis.getAsLong() - missRefreshMillis);
  }

  /** Loads {@code location} now and every {@code refresh}, on one daemon thread of its own. */
  public static JwksKeys start(String location, Duration refresh, Duration missRefresh, Duration timeout) {
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "imsync-jwks-refresh");
      t.setDaemon(true);
      return t;
    });
    JwksKeys keys = new JwksKeys(location, loader(location, timeout), missRefresh, System::currentTimeMillis, scheduler, scheduler);
    scheduler.scheduleWithFixedDelay(keys::reload, 0, refresh.toMillis(), TimeUnit.MILLISECONDS);
    return keys;
  }

  /** An http(s) URL is fetched (with timeouts and a size limit); anything else is a file path or file: URL. */
  public static Loader loader(String location, Duration timeout) {
    String lower = location.toLowerCase();
    if (lower.startsWith("https://") || lower.startsWith("http://")) {
      if (lower.startsWith("http://")) log.warn("JWKS {} is fetched over plain http: use https outside a trusted network", location);
      int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
      DefaultResourceRetriever retriever = new DefaultResourceRetriever(millis, millis, MAX_JWKS_BYTES);
      URL url;
      try {
        url = URI.create(location).toURL();
      } catch (MalformedURLException | IllegalArgumentException e) {
        throw new IllegalArgumentException("imsync.auth.jwks is not a valid URL: " + location, e);
      }
      return () -> JWKSet.parse(retriever.retrieveResource(url).getContent());
    }
    Path file = lower.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
    return () -> JWKSet.parse(Files.readString(file));
  }

  /** Called (on the refresh thread) after a reload in which a key disappeared: revoked keys stop working. */
  public void onKeysRemoved(Runnable listener) {
    this.onKeysRemoved = listener;
  }

  /** Loads the key set now, blocking; on failure keeps the last good one. True when it loaded. */
  public synchronized boolean reload() {
    JWKSet fresh;
    try {
      fresh = usable(loader.load());
    } catch (IOException | ParseException | RuntimeException e) {
      log.warn("JWKS {} could not be loaded (keeping the {} keys loaded before): {}", location, keys.size(), e.toString());
      return false;
    }
    JWKSet before = keys;
    keys = fresh;
    if (!loaded) log.info("JWKS {} loaded: {} keys", location, fresh.size());
    loaded = true;
    Set<JWK> gone = new HashSet<>(before.getKeys());
    gone.removeAll(fresh.getKeys());
    if (!gone.isEmpty()) {
      log.info("JWKS {} reloaded: {} keys removed, {} keys now", location, gone.size(), fresh.size());
      onKeysRemoved.run();
    }
    return true;
  }

  /** Public parts only (a file holding private keys is not kept in memory), and no short RSA keys. */
  private JWKSet usable(JWKSet set) {
    List<JWK> kept = new ArrayList<>();
    for (JWK k : set.toPublicJWKSet().getKeys()) {
      if (k instanceof RSAKey rsa && rsa.size() < MIN_RSA_BITS) {
        log.warn("JWKS {}: RSA key {} has {} bits (< {}): ignored", location, k.getKeyID(), rsa.size(), MIN_RSA_BITS);
        continue;
      }
      kept.add(k);
    }
    return new JWKSet(kept);
  }

  /** The keys loaded last (empty before the first load). */
  public JWKSet current() {
    return keys;
  }

  public boolean isLoaded() {
    return loaded;
  }

  /** Selects from the snapshot; no match asks for an early reload (rate limited) and never waits for it. */
  @Override
  public List<JWK> get(JWKSelector selector, SecurityContext context) {
    List<JWK> found = selector.select(keys);
    if (found.isEmpty()) requestReload();
    return found;
  }

  private void requestReload() {
    long now = clockMillis.getAsLong();
    long last = lastMissRefresh.get();
    if (now - last < missRefreshMillis || !lastMissRefresh.compareAndSet(last, now)) return;
    try {
      refresher.execute(this::reload);
    } catch (RejectedExecutionException e) {
      // closed: nothing to refresh any more
    }
  }

  @Override
  public void close() {
    if (ownScheduler != null) ownScheduler.shutdownNow();
  }
}
