package imsync.http;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.text.ParseException;
import java.util.Date;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies the contract's HS256 bearer tokens. nimbus-jose-jwt parses the token; the MAC is checked here
 * with the JDK so a secret shorter than 256 bits (which nimbus refuses) still works, and only HS256 is
 * ever accepted (no {@code none}, no algorithm confusion).
 */
public final class Auth {

  public enum Scope { DEVICE, SERVICE, OPERATOR }

  /** Who is calling: account and device are set for device scope only. */
  public record Principal(Scope scope, String accountId, String deviceId) {}

  /** A token that must be refused with 401; the message says why. */
  public static final class Unauthorized extends Exception {
    public Unauthorized(String message) {
      super(message, null, false, false);
    }
  }

  private final SecretKeySpec key;

  public Auth(byte[] secret) {
    this.key = new SecretKeySpec(secret, "HmacSHA256");
  }

  public Principal verify(String token) throws Unauthorized {
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token);
    } catch (ParseException | RuntimeException e) {
      throw new Unauthorized("token is malformed");
    }
    if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm())) throw new Unauthorized("token must be signed with HS256");
    byte[] expected = hmac(jwt.getSigningInput());
    if (!MessageDigest.isEqual(expected, jwt.getSignature().decode())) throw new Unauthorized("token signature is invalid");
    JWTClaimsSet claims;
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new Unauthorized("token claims are malformed");
    }
    Object exp = claims.getClaim("exp");
    if (!(exp instanceof Date expiry)) throw new Unauthorized("token has no exp claim");
    if (expiry.getTime() <= System.currentTimeMillis()) throw new Unauthorized("token has expired");
    Object scope = claims.getClaim("scope");
    if (!(scope instanceof String s)) throw new Unauthorized("token has no scope claim");
    switch (s) {
      case "device" -> {
        String sub = stringClaim(claims, "sub");
        String dev = stringClaim(claims, "dev");
        if (sub == null || !Json.ACCOUNT_ID.matcher(sub).matches()) throw new Unauthorized("token sub is not a valid account id");
        if (dev == null || !Json.ACCOUNT_ID.matcher(dev).matches()) throw new Unauthorized("token dev is not a valid device id");
        return new Principal(Scope.DEVICE, sub, dev);
      }
      case "service" -> {
        return new Principal(Scope.SERVICE, null, null);
      }
      case "operator" -> {
        return new Principal(Scope.OPERATOR, null, null);
      }
      default -> throw new Unauthorized("token scope \"" + s + "\" is unknown");
    }
  }

  /** Issues a token (dev tooling and tests). */
  public String issue(String scope, String sub, String dev, long expiresAtSeconds) {
    JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().claim("scope", scope).expirationTime(new Date(expiresAtSeconds * 1000));
    if (sub != null) b.subject(sub);
    if (dev != null) b.claim("dev", dev);
    String signingInput = new JWSHeader(JWSAlgorithm.HS256).toBase64URL() + "." + Base64URL.encode(b.build().toString());
    return signingInput + "." + Base64URL.encode(hmac(signingInput.getBytes(StandardCharsets.US_ASCII)));
  }

  private static String stringClaim(JWTClaimsSet claims, String name) {
    Object v = claims.getClaim(name);
    return v instanceof String s ? s : null;
  }

  private byte[] hmac(byte[] input) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac.doFinal(input);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
