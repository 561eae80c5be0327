package imsync.bench;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import imsync.http.Auth;
import imsync.http.JwksKeys;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Date;
import java.util.List;

/**
 * Cost of one bearer-token check, printed, not asserted (run: {@code java -cp <test classpath>
 * imsync.bench.AuthBenchmark [rounds]}): HS256, RS256 and ES256 with the cache off (every request parses the
 * token and checks its signature) against a cache hit (the same token again).
 */
public final class AuthBenchmark {
  private static final String DEVICE_TOKEN_ACCOUNT = "account-0123456789";

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
    System.out.printf("imsync auth benchmark — %s, %d cores, java %s, %d calls per figure%n", System.getProperty("os.arch"),
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), rounds);
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("r1").generate();
    ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("e1").generate();
    byte[] secret = "bench-secret-bench-secret-bench-secret".getBytes(StandardCharsets.UTF_8);
    JwksKeys keys = new JwksKeys("memory", () -> new JWKSet(List.of(rsa, ec)), Duration.ofSeconds(10), System::currentTimeMillis, Runnable::run);
    keys.reload();
    Auth uncached = new Auth(secret, keys, "", "", 0, System::currentTimeMillis);
    Auth cached = new Auth(secret, keys, "", "", 100_000, System::currentTimeMillis);

    long exp = System.currentTimeMillis() + 3_600_000;
    JWTClaimsSet claims = new JWTClaimsSet.Builder().claim("scope", "device").subject(DEVICE_TOKEN_ACCOUNT).claim("dev", "phone")
        .expirationTime(new Date(exp)).build();
    String hs = uncached.issue("device", DEVICE_TOKEN_ACCOUNT, "phone", exp / 1000);
    String rs = sign(JWSAlgorithm.RS256, "r1", new RSASSASigner(rsa), claims);
    String es = sign(JWSAlgorithm.ES256, "e1", new ECDSASigner(ec), claims);

    System.out.printf("%-28s %12s %12s%n", "check", "median µs", "p99 µs");
    report("HS256, no cache", uncached, hs, rounds);
    report("RS256, no cache", uncached, rs, rounds);
    report("ES256, no cache", uncached, es, rounds);
    report("RS256, cache hit", cached, rs, rounds);
    report("HS256, cache hit", cached, hs, rounds);
  }

  private static String sign(JWSAlgorithm alg, String kid, JWSSigner signer, JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  /** Each call gets a fresh copy of the token, as each request does (its own String from the header). */
  private static void report(String name, Auth auth, String token, int rounds) throws Exception {
    char[] chars = token.toCharArray();
    for (int i = 0; i < rounds; i++) auth.verify(new String(chars)); // warm-up
    long[] nanos = new long[rounds];
    for (int i = 0; i < rounds; i++) {
      String copy = new String(chars);
      long t0 = System.nanoTime();
      auth.verify(copy);
      nanos[i] = System.nanoTime() - t0;
    }
    Arrays.sort(nanos);
    System.out.printf("%-28s %12.2f %12.2f%n", name, nanos[rounds / 2] / 1000.0, nanos[(int) (rounds * 0.99)] / 1000.0);
  }
}
