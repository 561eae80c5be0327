package imsync.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.BadJWSException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import imsync.AuthSettings;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.text.ParseException;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies bearer tokens. The token's header {@code alg} picks the verifier: HS256 is checked against the
 * configured secret (development; the MAC is computed with the JDK so a secret shorter than 256 bits, which
 * nimbus refuses, still works), RS256 and ES256 against the public keys of a JWKS (nimbus'
 * {@link DefaultJWTProcessor}, key chosen by {@code kid} and key type). Any other alg ({@code none} included),
 * or an alg whose verifier is not configured, is refused: a JWKS key is never used as an HMAC secret and the
 * HS256 secret never verifies an RS/ES token.
 *
 * <p>A verified token is remembered by its exact text until its {@code exp} (bounded cache): the next request
 * with the same token costs one hash lookup instead of a Base64 + JSON parse and a signature check. Only
 * tokens that passed every check are ever put in it, and a hit is refused once the token's {@code exp} has
 * passed. When a JWKS reload drops a key, the whole cache is forgotten so tokens of a revoked key stop working.
 */
public final class Auth implements AutoCloseable {

  public enum Scope { DEVICE, SERVICE, OPERATOR }

  /**
   * Who is calling: account and device are set for device scope only; {@code subject} is the token's
   * {@code sub} (for an operator: who they are, as the audit log records it; null when absent).
   */
  public record Principal(Scope scope, String accountId, String deviceId, String subject) {
    public Principal(Scope scope, String accountId, String deviceId) {
      this(scope, accountId, deviceId, accountId);
    }
  }

  /** A token that must be refused with 401; the message says why. */
  public static class Unauthorized extends Exception {
    public Unauthorized(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * The token may be good but its signing keys have never loaded (JWKS unreachable since start): the
   * server's trouble, not the client's, so it is answered 503 with Retry-After rather than 401.
   */
  public static final class KeysUnavailable extends Unauthorized {
    public KeysUnavailable(String message) {
      super(message);
    }
  }

  public static final int DEFAULT_CACHE_SIZE = 100_000;
  private static final Set<JWSAlgorithm> JWKS_ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256);
  /** {@code typ} values of a JWKS token (RFC 7519 and RFC 9068 access tokens); absent is fine too. */
  private static final Set<String> JWKS_TYPES = Set.of("jwt", "at+jwt", "application/at+jwt");

  /** A token that passed every check: who it is, and until when (its exp, epoch ms). */
  private record Verified(Principal principal, long expiresAtMillis) {}

  private final SecretKeySpec hs256Key;
  private final JWKSource<SecurityContext> jwks;
  private final DefaultJWTProcessor<SecurityContext> jwksProcessor;
  private final String issuer;
  private final String audience;
  private final String acceptedAlgorithms;
  private final LongSupplier clockMillis;
  private final Cache<String, Verified> verified;
  private final LongAdder signatureChecks = new LongAdder();
  private final AutoCloseable owned;

  /** HS256 only, default cache: tests and dev tooling. */
  public Auth(byte[] secret) {
    this(secret, null, "", "", DEFAULT_CACHE_SIZE, System::currentTimeMillis);
  }

  /**
   * @param hs256Secret null or empty: HS256 tokens are refused
   * @param jwks RS256/ES256 keys; null: such tokens are refused. A {@link JwksKeys} also clears the cache when
   *     a reload drops a key.
   * @param issuer, audience empty: not checked (JWKS tokens only)
   * @param cacheSize verified tokens remembered; 0: none
   * @param clockMillis wall clock (epoch ms) that exp is checked against
   */
  public Auth(byte[] hs256Secret, JWKSource<SecurityContext> jwks, String issuer, String audience, int cacheSize,
      LongSupplier clockMillis) {
    this(hs256Secret, jwks, issuer, audience, cacheSize, clockMillis, null);
  }

  private Auth(byte[] hs256Secret, JWKSource<SecurityContext> jwks, String issuer, String audience, int cacheSize,
      LongSupplier clockMillis, AutoCloseable owned) {
    if ((hs256Secret == null || hs256Secret.length == 0) && jwks == null) {
      throw new IllegalArgumentException("an HS256 secret or a JWKS is needed");
    }
    this.hs256Key = hs256Secret == null || hs256Secret.length == 0 ? null : new SecretKeySpec(hs256Secret, "HmacSHA256");
    this.jwks = jwks;
    this.issuer = issuer == null ? "" : issuer;
    this.audience = audience == null ? "" : audience;
    this.clockMillis = clockMillis;
    this.owned = owned;
    this.acceptedAlgorithms = hs256Key == null ? "RS256 or ES256" : jwks == null ? "HS256" : "HS256, RS256 or ES256";
    if (jwks == null) {
      this.jwksProcessor = null;
    } else {
      DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
      p.setJWSKeySelector(new JWSVerificationKeySelector<>(JWKS_ALGORITHMS, jwks));
      // typ and claims are checked here, before and after (the same claim rules for every algorithm)
      p.setJWSTypeVerifier((type, context) -> {});
      p.setJWTClaimsSetVerifier((claims, context) -> {});
      this.jwksProcessor = p;
    }
    this.verified = cacheSize <= 0 ? null : Caffeine.newBuilder()
        .maximumSize(cacheSize)
        .expireAfter(new UntilTokenExpiry(clockMillis))
        // maintenance (eviction) runs briefly on the caller, under a try-lock: no pool threads
        .executor(Runnable::run)
        .build();
    if (jwks instanceof JwksKeys keys) keys.onKeysRemoved(this::forgetVerifiedTokens);
  }

  /** From the node's config; a JWKS is loaded (and refreshed) on a thread of its own until {@link #close}. */
  public static Auth create(AuthSettings s) {
    JwksKeys keys = s.jwks().isEmpty() ? null : JwksKeys.start(s.jwks(), s.jwksRefresh(), s.jwksMissRefresh(), s.jwksTimeout());
    return new Auth(s.hs256Secret(), keys, s.issuer(), s.audience(), s.cacheSize(), System::currentTimeMillis, keys);
  }

  public Principal verify(String token) throws Unauthorized {
    Cache<String, Verified> cache = verified;
    if (cache != null) {
      Verified hit = cache.getIfPresent(token);
      if (hit != null) {
        if (hit.expiresAtMillis > clockMillis.getAsLong()) return hit.principal;
        cache.invalidate(token);
        throw new Unauthorized("token has expired");
      }
    }
    Verified v = verifyUncached(token);
    if (cache != null) cache.put(token, v);
    return v.principal;
  }

  /** How many tokens had their signature checked (cache misses that got that far): tests and figures. */
  public long signatureChecks() {
    return signatureChecks.sum();
  }

  /** Forgets every verified token: the next use of each is checked again. */
  public void forgetVerifiedTokens() {
    if (verified != null) verified.invalidateAll();
  }

  private Verified verifyUncached(String token) throws Unauthorized {
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(token);
    } catch (ParseException | RuntimeException e) {
      // alg "none" lands here too: nimbus does not parse it as a JWS header
      throw new Unauthorized("token is malformed");
    }
    JWSHeader header = jwt.getHeader();
    JWSAlgorithm alg = header.getAlgorithm();
    boolean hs256 = JWSAlgorithm.HS256.equals(alg);
    if (!(hs256 ? hs256Key != null : jwks != null && JWKS_ALGORITHMS.contains(alg))) {
      throw new Unauthorized("token must be signed with " + acceptedAlgorithms);
    }
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new Unauthorized("token claims are malformed");
    }
    if (hs256) verifyHs256(jwt);
    else verifyWithJwks(jwt);
    return check(claims, !hs256);
  }

  private void verifyHs256(SignedJWT jwt) throws Unauthorized {
    if (jwt.getHeader().getCriticalParams() != null) throw new Unauthorized("token has critical header parameters");
    signatureChecks.increment();
    byte[] expected = hmac(jwt.getSigningInput());
    if (!MessageDigest.isEqual(expected, jwt.getSignature().decode())) throw new Unauthorized("token signature is invalid");
  }

  private void verifyWithJwks(SignedJWT jwt) throws Unauthorized {
    JOSEObjectType type = jwt.getHeader().getType();
    if (type != null && !JWKS_TYPES.contains(type.getType().toLowerCase())) throw new Unauthorized("token typ is not accepted");
    if (jwks instanceof JwksKeys keys && !keys.isLoaded()) throw new KeysUnavailable("token signing keys are not loaded yet");
    signatureChecks.increment();
    try {
      jwksProcessor.process(jwt, null);
    } catch (BadJWSException e) {
      throw new Unauthorized("token signature is invalid");
    } catch (BadJOSEException e) {
      // claims and typ are not checked by the processor: what is left is "no key for this kid and alg"
      throw new Unauthorized("token is signed by an unknown key");
    } catch (JOSEException e) {
      throw new Unauthorized("token could not be verified");
    }
  }

  private Verified check(JWTClaimsSet claims, boolean viaJwks) throws Unauthorized {
    Object exp = claims.getClaim("exp");
    if (!(exp instanceof Date expiry)) throw new Unauthorized("token has no exp claim");
    if (expiry.getTime() <= clockMillis.getAsLong()) throw new Unauthorized("token has expired");
    if (viaJwks && !issuer.isEmpty() && !issuer.equals(stringClaim(claims, "iss"))) throw new Unauthorized("token iss is not accepted");
    if (viaJwks && !audience.isEmpty()) {
      List<String> aud = claims.getAudience();
      if (aud == null || !aud.contains(audience)) throw new Unauthorized("token aud is not accepted");
    }
    Object scope = claims.getClaim("scope");
    if (!(scope instanceof String s)) throw new Unauthorized("token has no scope claim");
    Principal principal = switch (s) {
      case "device" -> {
        String sub = stringClaim(claims, "sub");
        String dev = stringClaim(claims, "dev");
        if (sub == null || !Json.ACCOUNT_ID.matcher(sub).matches()) throw new Unauthorized("token sub is not a valid account id");
        if (dev == null || !Json.ACCOUNT_ID.matcher(dev).matches()) throw new Unauthorized("token dev is not a valid device id");
        yield new Principal(Scope.DEVICE, sub, dev);
      }
      case "service" -> new Principal(Scope.SERVICE, null, null);
      case "operator" -> new Principal(Scope.OPERATOR, null, null, stringClaim(claims, "sub"));
      default -> throw new Unauthorized("token scope \"" + s + "\" is unknown");
    };
    return new Verified(principal, expiry.getTime());
  }

  /** Issues an HS256 token (dev tooling and tests). */
  public String issue(String scope, String sub, String dev, long expiresAtSeconds) {
    if (hs256Key == null) throw new IllegalStateException("no HS256 secret is configured (imsync.auth.secret)");
    JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().claim("scope", scope).expirationTime(new Date(expiresAtSeconds * 1000));
    if (sub != null) b.subject(sub);
    if (dev != null) b.claim("dev", dev);
    String signingInput = new JWSHeader(JWSAlgorithm.HS256).toBase64URL() + "." + Base64URL.encode(b.build().toString());
    return signingInput + "." + Base64URL.encode(hmac(signingInput.getBytes(StandardCharsets.US_ASCII)));
  }

  /** Stops the JWKS refresh this instance started (if any). */
  @Override
  public void close() {
    if (owned == null) return;
    try {
      owned.close();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String stringClaim(JWTClaimsSet claims, String name) {
    Object v = claims.getClaim(name);
    return v instanceof String s ? s : null;
  }

  private byte[] hmac(byte[] input) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(hs256Key);
      return mac.doFinal(input);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A cache entry lives until its token's exp (the hit path checks exp again against the wall clock). */
  private static final class UntilTokenExpiry implements Expiry<String, Verified> {
    private final LongSupplier clockMillis;

    UntilTokenExpiry(LongSupplier clockMillis) {
      this.clockMillis = clockMillis;
    }

    @Override
    public long expireAfterCreate(String token, Verified v, long currentTime) {
      return TimeUnit.MILLISECONDS.toNanos(Math.max(0, v.expiresAtMillis - clockMillis.getAsLong()));
    }

    @Override
    public long expireAfterUpdate(String token, Verified v, long currentTime, long currentDuration) {
      return expireAfterCreate(token, v, currentTime);
    }

    @Override
    public long expireAfterRead(String token, Verified v, long currentTime, long currentDuration) {
      return currentDuration;
    }
  }
}
