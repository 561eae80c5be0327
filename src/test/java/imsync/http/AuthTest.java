package imsync.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import imsync.AuthSettings;
import imsync.Settings;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token verification: HS256, RS256/ES256 against a JWKS, refusals, key rotation and the verified-token cache. */
class AuthTest {
  private static final byte[] SECRET = "test-secret".getBytes(StandardCharsets.UTF_8);
  private static RSAKey rsa1;
  private static RSAKey rsa2;
  private static RSAKey rsaStranger;
  private static ECKey ec1;

  @TempDir Path dir;
  private Path jwksFile;
  private final AtomicLong now = new AtomicLong(1_800_000_000_000L);
  /** Early reloads asked for by a kid miss: run by the test, not by a thread. */
  private final List<Runnable> queuedReloads = new ArrayList<>();

  @BeforeAll
  static void keys() throws Exception {
    rsa1 = new RSAKeyGenerator(2048).keyID("r1").generate();
    rsa2 = new RSAKeyGenerator(2048).keyID("r2").generate();
    rsaStranger = new RSAKeyGenerator(2048).keyID("r1").generate();
    ec1 = new ECKeyGenerator(Curve.P_256).keyID("e1").generate();
  }

  @BeforeEach
  void file() {
    jwksFile = dir.resolve("jwks.json");
  }

  private void writeJwks(JWK... keys) throws Exception {
    // private keys too: the loader must keep only the public parts
    Files.writeString(jwksFile, new JWKSet(Arrays.asList(keys)).toString(false));
  }

  private JwksKeys loadedKeys(JWK... keys) throws Exception {
    writeJwks(keys);
    JwksKeys k = new JwksKeys(jwksFile.toString(), JwksKeys.loader(jwksFile.toString(), Duration.ofSeconds(1)),
        Duration.ofSeconds(10), now::get, queuedReloads::add);
    assertTrue(k.reload());
    return k;
  }

  private Auth auth(byte[] secret, JwksKeys keys) {
    return new Auth(secret, keys, "", "", 1000, now::get);
  }

  private JWTClaimsSet device(String sub, String dev, long expMillis) {
    return new JWTClaimsSet.Builder().claim("scope", "device").subject(sub).claim("dev", dev).expirationTime(new Date(expMillis)).build();
  }

  private JWTClaimsSet device() {
    return device("alice", "phone", now.get() + 3_600_000);
  }

  private static String sign(JWSAlgorithm alg, String kid, JWSSigner signer, JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  private static String rs256(RSAKey key, JWTClaimsSet claims) throws Exception {
    return sign(JWSAlgorithm.RS256, key.getKeyID(), new RSASSASigner(key), claims);
  }

  private static String es256(ECKey key, JWTClaimsSet claims) throws Exception {
    return sign(JWSAlgorithm.ES256, key.getKeyID(), new ECDSASigner(key), claims);
  }

  private static String refusal(Auth auth, String token) {
    return assertThrows(Auth.Unauthorized.class, () -> auth.verify(token)).getMessage();
  }

  @Test
  void rs256AndEs256TokensFromAJwksFileVerify() throws Exception {
    JwksKeys keys = loadedKeys(rsa1, ec1);
    assertTrue(keys.current().getKeys().stream().noneMatch(JWK::isPrivate), "only public keys are kept");
    Auth auth = auth(null, keys);
    assertEquals(new Auth.Principal(Auth.Scope.DEVICE, "alice", "phone"), auth.verify(rs256(rsa1, device())));
    assertEquals(new Auth.Principal(Auth.Scope.DEVICE, "bob", "tab"), auth.verify(es256(ec1, device("bob", "tab", now.get() + 60_000))));
    JWTClaimsSet service = new JWTClaimsSet.Builder().claim("scope", "service").expirationTime(new Date(now.get() + 60_000)).build();
    assertEquals(Auth.Scope.SERVICE, auth.verify(es256(ec1, service)).scope());
    // no kid: every key of the alg's type is tried
    assertEquals("alice", auth.verify(sign(JWSAlgorithm.RS256, null, new RSASSASigner(rsa1), device())).accountId());
  }

  @Test
  void hs256AndJwksTogetherTheAlgPicksTheVerifier() throws Exception {
    Auth auth = auth(SECRET, loadedKeys(rsa1, ec1));
    assertEquals("alice", auth.verify(new Auth(SECRET).issue("device", "alice", "phone", now.get() / 1000 + 60)).accountId());
    assertEquals("alice", auth.verify(rs256(rsa1, device())).accountId());
    assertEquals("alice", auth.verify(es256(ec1, device())).accountId());
    assertEquals("token signature is invalid", refusal(auth, new Auth("other".getBytes()).issue("device", "a", "b", now.get() / 1000 + 60)));
  }

  @Test
  void aNewKidInTheFileIsPickedUpByTheReloadAMissAsksFor() throws Exception {
    JwksKeys keys = loadedKeys(rsa1);
    Auth auth = auth(null, keys);
    String byNewKey = rs256(rsa2, device());
    assertEquals("token is signed by an unknown key", refusal(auth, byNewKey));
    assertEquals(1, queuedReloads.size(), "a kid miss asks for one early reload");

    writeJwks(rsa1, rsa2);
    queuedReloads.remove(0).run();
    assertEquals("alice", auth.verify(byNewKey).accountId());
    assertEquals("alice", auth.verify(rs256(rsa1, device("alice", "tab", now.get() + 60_000))).accountId());
  }

  @Test
  void kidMissReloadsAreRateLimited() throws Exception {
    JwksKeys keys = loadedKeys(rsa1);
    Auth auth = auth(null, keys);
    refusal(auth, rs256(rsa2, device()));
    refusal(auth, rs256(rsa2, device("alice", "other", now.get() + 60_000)));
    assertEquals(1, queuedReloads.size(), "a second miss within jwks-miss-refresh asks for nothing");
    now.addAndGet(10_000);
    refusal(auth, rs256(rsa2, device("alice", "third", now.get() + 60_000)));
    assertEquals(2, queuedReloads.size());
  }

  @Test
  void aPeriodicReloadPicksUpRotationWithoutAnyMiss() throws Exception {
    JwksKeys keys = loadedKeys(rsa1);
    Auth auth = auth(null, keys);
    writeJwks(rsa1, rsa2);
    assertTrue(keys.reload());
    assertEquals("alice", auth.verify(rs256(rsa2, device())).accountId());
    assertTrue(queuedReloads.isEmpty());
  }

  @Test
  void aKeyDroppedFromTheJwksStopsItsCachedTokens() throws Exception {
    JwksKeys keys = loadedKeys(rsa1, rsa2);
    Auth auth = auth(null, keys);
    String byR1 = rs256(rsa1, device());
    auth.verify(byR1);
    writeJwks(rsa2);
    assertTrue(keys.reload());
    assertEquals("token is signed by an unknown key", refusal(auth, byR1));
  }

  @Test
  void aBrokenJwksKeepsTheKeysLoadedBefore() throws Exception {
    JwksKeys keys = loadedKeys(rsa1);
    Files.writeString(jwksFile, "{not json");
    assertFalse(keys.reload());
    assertEquals("alice", auth(null, keys).verify(rs256(rsa1, device())).accountId());
  }

  @Test
  void beforeTheFirstLoadJwksTokensAreRefused() throws Exception {
    writeJwks(rsa1);
    JwksKeys keys = new JwksKeys("f", JwksKeys.loader(jwksFile.toString(), Duration.ofSeconds(1)), Duration.ofSeconds(10), now::get,
        queuedReloads::add);
    Auth auth = auth(null, keys);
    assertEquals("token signing keys are not loaded yet", refusal(auth, rs256(rsa1, device())));
    // answered 503 by the routes: the server cannot check the token yet, the client did nothing wrong
    assertThrows(Auth.KeysUnavailable.class, () -> auth.verify(rs256(rsa1, device())));
    keys.reload();
    assertEquals("alice", auth.verify(rs256(rsa1, device())).accountId());
  }

  @Test
  void tokensOfUnknownKeysAreRefused() throws Exception {
    Auth auth = auth(SECRET, loadedKeys(rsa1, ec1));
    // same kid as a known key, other key material
    assertEquals("token signature is invalid", refusal(auth, rs256(rsaStranger, device())));
    // no kid, unknown key
    assertEquals("token signature is invalid", refusal(auth, sign(JWSAlgorithm.RS256, null, new RSASSASigner(rsaStranger), device())));
    // unknown kid
    assertEquals("token is signed by an unknown key", refusal(auth, rs256(rsa2, device())));
    ECKey otherEc = new ECKeyGenerator(Curve.P_256).keyID("e1").generate();
    assertEquals("token signature is invalid", refusal(auth, es256(otherEc, device())));
  }

  @Test
  void algNoneIsRefused() throws Exception {
    Auth auth = auth(SECRET, loadedKeys(rsa1, ec1));
    String plain = new PlainJWT(device()).serialize();
    assertEquals("token is malformed", refusal(auth, plain));
    // "none" with a signature part copied from a valid token
    String valid = rs256(rsa1, device());
    String noneHeader = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"r1\"}").toString();
    assertEquals("token is malformed", refusal(auth, noneHeader + valid.substring(valid.indexOf('.'))));
  }

  @Test
  void algorithmMixUpsAreRefused() throws Exception {
    Auth jwksOnly = auth(null, loadedKeys(rsa1, ec1));
    // HS256 when only a JWKS is configured, even with the public key's bytes as the HMAC secret
    String hsWithPublicKey = sign(JWSAlgorithm.HS256, "r1", new MACSigner(rsa1.toPublicKey().getEncoded()), device());
    assertEquals("token must be signed with RS256 or ES256", refusal(jwksOnly, hsWithPublicKey));
    assertEquals("token must be signed with RS256 or ES256", refusal(jwksOnly, new Auth(SECRET).issue("device", "a", "b", now.get() / 1000 + 60)));
    // ... and when both are configured, the secret decides
    assertEquals("token signature is invalid", refusal(auth(SECRET, loadedKeys(rsa1, ec1)), hsWithPublicKey));

    // RS256/ES256 when only HS256 is configured
    Auth hsOnly = auth(SECRET, null);
    assertEquals("token must be signed with HS256", refusal(hsOnly, rs256(rsa1, device())));
    assertEquals("token must be signed with HS256", refusal(hsOnly, es256(ec1, device())));

    // algorithms outside the list, even with a key that would verify them
    assertEquals("token must be signed with RS256 or ES256", refusal(jwksOnly, sign(JWSAlgorithm.RS384, "r1", new RSASSASigner(rsa1), device())));
    assertEquals("token must be signed with RS256 or ES256", refusal(jwksOnly, sign(JWSAlgorithm.PS256, "r1", new RSASSASigner(rsa1), device())));
    ECKey p384 = new ECKeyGenerator(Curve.P_384).keyID("e384").generate();
    assertEquals("token must be signed with RS256 or ES256",
        refusal(auth(null, loadedKeys(rsa1, p384)), sign(JWSAlgorithm.ES384, "e384", new ECDSASigner(p384), device())));

    // the header says RS256 but names the EC key (and the signature is ECDSA): no key of that type
    String rsHeader = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("e1").build().toBase64URL().toString();
    String payload = Base64URL.encode(device().toString()).toString();
    Base64URL ecSignature = new ECDSASigner(ec1).sign(new JWSHeader(JWSAlgorithm.ES256), (rsHeader + "." + payload).getBytes(StandardCharsets.US_ASCII));
    assertEquals("token is signed by an unknown key", refusal(jwksOnly, rsHeader + "." + payload + "." + ecSignature));
  }

  @Test
  void expiredOrExpiryLessTokensAreRefused() throws Exception {
    Auth auth = auth(SECRET, loadedKeys(rsa1, ec1));
    assertEquals("token has expired", refusal(auth, rs256(rsa1, device("alice", "phone", now.get() - 1000))));
    assertEquals("token has expired", refusal(auth, es256(ec1, device("alice", "phone", now.get()))));
    JWTClaimsSet noExp = new JWTClaimsSet.Builder().claim("scope", "device").subject("alice").claim("dev", "phone").build();
    assertEquals("token has no exp claim", refusal(auth, rs256(rsa1, noExp)));
    assertEquals("token is malformed", refusal(auth, "not.a.token"));
    assertEquals("token is malformed", refusal(auth, ""));
  }

  @Test
  void aCachedTokenIsRefusedOnceItExpires() throws Exception {
    Auth auth = auth(SECRET, loadedKeys(rsa1, ec1));
    for (String token : List.of(rs256(rsa1, device("alice", "phone", now.get() + 60_000)),
        new Auth(SECRET).issue("device", "alice", "phone", (now.get() + 60_000) / 1000))) {
      now.set(1_800_000_000_000L);
      long checks = auth.signatureChecks();
      auth.verify(token);
      now.addAndGet(59_999);
      auth.verify(token);
      assertEquals(checks + 1, auth.signatureChecks(), "checked once, then served from the cache");
      now.addAndGet(1);
      assertEquals("token has expired", refusal(auth, token));
      assertEquals(checks + 1, auth.signatureChecks(), "the cached entry itself is refused at exp");
      // the expired entry is gone: checked from scratch, refused again
      assertEquals("token has expired", refusal(auth, token));
    }
  }

  @Test
  void aCacheHitReturnsTheSamePrincipalWithoutCheckingTheSignatureAgain() throws Exception {
    Auth auth = auth(SECRET, loadedKeys(rsa1, ec1));
    String rs = rs256(rsa1, device());
    Auth.Principal first = auth.verify(rs);
    assertEquals(1, auth.signatureChecks());
    for (int i = 0; i < 10; i++) assertSame(first, auth.verify(new String(rs.toCharArray())));
    assertEquals(1, auth.signatureChecks());
    String hs = new Auth(SECRET).issue("operator", null, null, now.get() / 1000 + 60);
    assertSame(auth.verify(hs), auth.verify(hs));
    assertEquals(2, auth.signatureChecks());

    Auth uncached = new Auth(SECRET, null, "", "", 0, now::get);
    uncached.verify(hs);
    uncached.verify(hs);
    assertEquals(2, uncached.signatureChecks(), "without a cache every use is checked");
  }

  @Test
  void onlyVerifiedTokensAreCached() throws Exception {
    Auth auth = auth(SECRET, loadedKeys(rsa1, ec1));
    String good = rs256(rsa1, device());
    auth.verify(good);
    String badSignature = good.substring(0, good.length() - 4) + (good.endsWith("AAAA") ? "BBBB" : "AAAA");
    String[] parts = good.split("\\.");
    String otherPayload = parts[0] + "." + Base64URL.encode(device("mallory", "phone", now.get() + 60_000).toString()) + "." + parts[2];
    for (int i = 0; i < 2; i++) {
      assertEquals("token signature is invalid", refusal(auth, badSignature));
      assertEquals("token signature is invalid", refusal(auth, otherPayload));
    }
    assertEquals(5, auth.signatureChecks(), "refused tokens are checked again each time, never remembered");
    assertEquals("alice", auth.verify(good).accountId());
  }

  @Test
  void issuerAndAudienceAreCheckedWhenConfigured() throws Exception {
    Auth auth = new Auth(SECRET, loadedKeys(rsa1), "https://idp.example", "imsync", 1000, now::get);
    JWTClaimsSet.Builder b = new JWTClaimsSet.Builder(device());
    assertEquals("token iss is not accepted", refusal(auth, rs256(rsa1, b.build())));
    assertEquals("token aud is not accepted", refusal(auth, rs256(rsa1, b.issuer("https://idp.example").build())));
    assertEquals("token aud is not accepted", refusal(auth, rs256(rsa1, b.audience("other").build())));
    assertEquals("alice", auth.verify(rs256(rsa1, b.audience(List.of("other", "imsync")).build())).accountId());
    // dev HS256 tokens carry neither
    assertEquals("alice", auth.verify(new Auth(SECRET).issue("device", "alice", "phone", now.get() / 1000 + 60)).accountId());
  }

  @Test
  void claimRulesHoldForJwksTokens() throws Exception {
    Auth auth = auth(null, loadedKeys(rsa1));
    assertEquals("token sub is not a valid account id", refusal(auth, rs256(rsa1, device("bad id", "phone", now.get() + 60_000))));
    JWTClaimsSet unknownScope = new JWTClaimsSet.Builder().claim("scope", "admin").expirationTime(new Date(now.get() + 60_000)).build();
    assertEquals("token scope \"admin\" is unknown", refusal(auth, rs256(rsa1, unknownScope)));
    String at = sign(JWSAlgorithm.RS256, "r1", new RSASSASigner(rsa1), device());
    assertEquals("alice", auth.verify(at).accountId());
    SignedJWT wrongType = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("r1").type(new JOSEObjectType("secevent+jwt")).build(), device());
    wrongType.sign(new RSASSASigner(rsa1));
    assertEquals("token typ is not accepted", refusal(auth, wrongType.serialize()));
  }

  @Test
  void aJwksUrlIsFetchedAndAFailedFetchKeepsTheOldKeys() throws Exception {
    AtomicReference<String> body = new AtomicReference<>(new JWKSet(List.of(rsa1, ec1)).toString());
    AtomicLong status = new AtomicLong(200);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/jwks.json", ex -> {
      byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders((int) status.get(), bytes.length);
      ex.getResponseBody().write(bytes);
      ex.close();
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json";
      JwksKeys keys = new JwksKeys(url, JwksKeys.loader(url, Duration.ofSeconds(2)), Duration.ofSeconds(10), now::get, queuedReloads::add);
      assertTrue(keys.reload());
      Auth auth = auth(null, keys);
      assertEquals("alice", auth.verify(es256(ec1, device())).accountId());
      status.set(503);
      assertFalse(keys.reload());
      assertEquals(2, keys.current().size());
      status.set(200);
      body.set(new JWKSet(List.of(rsa1, rsa2)).toString());
      assertTrue(keys.reload());
      assertEquals("alice", auth.verify(rs256(rsa2, device())).accountId());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void createLoadsTheJwksOnItsOwnThread() throws Exception {
    writeJwks(rsa1);
    AuthSettings s = new AuthSettings(new byte[0], jwksFile.toString(), Duration.ofMinutes(5), Duration.ofSeconds(10),
        Duration.ofSeconds(1), "", "", 10);
    try (Auth auth = Auth.create(s)) {
      String token = rs256(rsa1, device("alice", "phone", System.currentTimeMillis() + 60_000));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      Auth.Principal p = null;
      while (p == null) {
        try {
          p = auth.verify(token);
        } catch (Auth.Unauthorized e) {
          assertEquals("token signing keys are not loaded yet", e.getMessage());
          assertTrue(System.nanoTime() < deadline, "JWKS never loaded");
          java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
      }
      assertEquals("alice", p.accountId());
      assertThrows(IllegalStateException.class, () -> auth.issue("device", "a", "b", 1), "no HS256 secret: no dev tokens");
    }
  }

  private static Config config(String extra) {
    return ConfigFactory.parseString(extra).withFallback(ConfigFactory.parseResources("imsync.conf")).resolve();
  }

  @Test
  void configNeedsASecretOrAJwks() {
    assertThrows(IllegalArgumentException.class, () -> AuthSettings.from(config("imsync.auth.secret = \"\", imsync.auth.jwks = \"\"")));
    AuthSettings jwksOnly = AuthSettings.from(config("imsync.auth.secret = \"\", imsync.auth.jwks = \"/etc/jwks.json\""));
    assertEquals(0, jwksOnly.hs256Secret().length);
    assertEquals("/etc/jwks.json", jwksOnly.jwks());
    assertEquals(100_000, jwksOnly.cacheSize());
    assertEquals(Duration.ofMinutes(5), jwksOnly.jwksRefresh());
    // without an HS256 secret the cursor key must be given, not derived from ""
    assertThrows(IllegalArgumentException.class,
        () -> Settings.from(config("imsync.auth.secret = \"\", imsync.auth.jwks = \"/etc/jwks.json\", imsync.cursor.secret = \"\"")));
    Settings ok = Settings.from(config("imsync.auth.secret = \"\", imsync.auth.jwks = \"/etc/jwks.json\", imsync.cursor.secret = \"c\""));
    assertEquals(0, ok.authSecret().length);
  }
}
