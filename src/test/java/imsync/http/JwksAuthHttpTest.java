package imsync.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

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
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** RS256/ES256 tokens over real HTTP: a node configured with a JWKS file (and the test HS256 secret). */
@ExtendWith(LocalCassandra.class)
class JwksAuthHttpTest {
  private static RSAKey rsa;
  private static ECKey ec;
  private static Path jwks;
  private static TestNode node;
  private static Api api;

  @BeforeAll
  static void start() throws Exception {
    rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    jwks = Files.createTempFile("imsync-jwks", ".json");
    Files.writeString(jwks, new JWKSet(List.of(rsa, ec)).toString());
    node = TestNode.start("imsync.auth.jwks = \"" + jwks.toString().replace("\\", "\\\\") + "\"");
    api = node.api();
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) node.close();
    Files.deleteIfExists(jwks);
  }

  private static String token(JWSAlgorithm alg, String kid, JWSSigner signer, JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  private static JWTClaimsSet claims(String scope, String sub, String dev, long expMillis) {
    JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().claim("scope", scope).expirationTime(new Date(expMillis));
    if (sub != null) b.subject(sub).claim("dev", dev);
    return b.build();
  }

  private static long inAnHour() {
    return System.currentTimeMillis() + TimeUnit.HOURS.toMillis(1);
  }

  private static void assertUnauthorized(Api.Response r) {
    assertEquals(401, r.status(), r.raw().body());
    assertEquals("unauthorized", r.errorCode(), r.raw().body());
  }

  /** The node loads its JWKS on a thread of its own just after start: wait until an RS256 token passes. */
  private static Api.Response awaitSync(String token) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      Api.Response r = api.post("/v1/sync", token, "{\"cursor\": null}");
      if (r.status() != 401 || System.nanoTime() > deadline) return r;
    }
  }

  @Test
  void rs256DeviceAndEs256ServiceTokensWork() throws Exception {
    String account = "jwks-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
    String device = token(JWSAlgorithm.RS256, "rsa-1", new RSASSASigner(rsa), claims("device", account, "phone", inAnHour()));
    assertEquals(200, awaitSync(device).status());

    String service = token(JWSAlgorithm.ES256, "ec-1", new ECDSASigner(ec), claims("service", null, null, inAnHour()));
    String ingest = "{\"events\":[{\"type\":\"message\",\"account_ids\":[\"" + account + "\"],\"session_id\":\"dm:bob\","
        + "\"session_kind\":\"direct\",\"title\":\"T\",\"seq\":1,\"sender_id\":\"bob\",\"preview\":\"hi\",\"ts\":1764400000000}]}";
    Api.Response ingested = api.post("/v1/ingest", service, ingest);
    assertEquals(200, ingested.status(), ingested.raw().body());

    Api.Response sync = api.post("/v1/sync", device, "{\"cursor\": null}");
    assertEquals(200, sync.status(), sync.raw().body());
    assertEquals("dm:bob", sync.body().get("sessions").get(0).get("session_id").asText());
    // scope still decides, cached or not
    assertEquals(403, api.get("/admin/cluster", device).status());
    // the dev HS256 token keeps working next to the JWKS
    assertEquals(200, api.post("/v1/sync", Api.deviceToken(account, "tablet"), "{\"cursor\": null}").status());
  }

  @Test
  void unknownKeysAlgNoneAndExpiredTokensAre401() throws Exception {
    awaitSync(token(JWSAlgorithm.RS256, "rsa-1", new RSASSASigner(rsa), claims("device", "warm", "up", inAnHour())));
    RSAKey stranger = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
    assertUnauthorized(api.post("/v1/sync",
        token(JWSAlgorithm.RS256, "rsa-2", new RSASSASigner(stranger), claims("device", "a", "b", inAnHour())), "{}"));
    assertUnauthorized(api.post("/v1/sync", new PlainJWT(claims("device", "a", "b", inAnHour())).serialize(), "{}"));
    Api.Response expired = api.post("/v1/sync",
        token(JWSAlgorithm.ES256, "ec-1", new ECDSASigner(ec), claims("device", "a", "b", System.currentTimeMillis() - 1000)), "{}");
    assertUnauthorized(expired);
    assertFalse(expired.body().path("error").path("message").asText().isEmpty());
  }
}
