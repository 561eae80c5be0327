package imsync;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Typed view of {@code imsync.auth}: which bearer tokens a node accepts (see imsync.conf). Kept apart from
 * {@link Settings} so only {@link imsync.http.Auth} depends on it.
 *
 * @param hs256Secret empty: HS256 tokens are refused
 * @param jwks a JWKS file path or http(s) URL; empty: RS256/ES256 tokens are refused
 * @param issuer empty: not checked
 * @param audience empty: not checked
 * @param cacheSize verified tokens remembered; 0: no cache
 */
public record AuthSettings(
    byte[] hs256Secret,
    String jwks,
    Duration jwksRefresh,
    Duration jwksMissRefresh,
    Duration jwksTimeout,
    String issuer,
    String audience,
    int cacheSize) {

  public static AuthSettings from(Config root) {
    Config c = root.getConfig("imsync.auth");
    AuthSettings s = new AuthSettings(
        c.getString("secret").getBytes(StandardCharsets.UTF_8),
        c.getString("jwks").trim(),
        c.getDuration("jwks-refresh"),
        c.getDuration("jwks-miss-refresh"),
        c.getDuration("jwks-timeout"),
        c.getString("issuer"),
        c.getString("audience"),
        c.getInt("cache-size"));
    if (s.hs256Secret.length == 0 && s.jwks.isEmpty()) {
      throw new IllegalArgumentException(
          "imsync.auth.secret (env IMSYNC_AUTH_SECRET) or imsync.auth.jwks (env IMSYNC_AUTH_JWKS) must be set");
    }
    if (s.cacheSize < 0) throw new IllegalArgumentException("imsync.auth.cache-size must be >= 0");
    if (s.jwksRefresh.isNegative() || s.jwksRefresh.isZero()) throw new IllegalArgumentException("imsync.auth.jwks-refresh must be > 0");
    return s;
  }

  /** HS256 only, with the default cache: tests and dev tooling. */
  public static AuthSettings hs256(byte[] secret) {
    return new AuthSettings(secret, "", Duration.ofMinutes(5), Duration.ofSeconds(10), Duration.ofSeconds(2), "", "", 100_000);
  }
}
