package imsync.it;

import static imsync.testkit.Api.deviceToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import imsync.testkit.Api;
import imsync.testkit.LocalCassandra;
import imsync.testkit.TestNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** 429 with Retry-After once an account's bucket is empty; 503 with Retry-After when the account does not answer in time. */
@ExtendWith(LocalCassandra.class)
class LimitsAndOutagesTest {

  @Test
  void rateLimitedDeviceGets429WithRetryAfter() {
    try (TestNode node = TestNode.start("imsync.rate-limit { per-second = 0.001, burst = 3 }")) {
      String t = deviceToken("busy-" + System.nanoTime(), "phone");
      Api api = node.api();
      for (int i = 0; i < 3; i++) assertEquals(200, api.get("/v1/groups", t).status());
      Api.Response r = api.get("/v1/groups", t);
      assertEquals(429, r.status());
      assertEquals("rate_limited", r.errorCode());
      assertTrue(Long.parseLong(r.raw().headers().firstValue("Retry-After").orElseThrow()) >= 1);
      assertEquals(200, api.get("/v1/groups", deviceToken("other-" + System.nanoTime(), "p")).status(), "per account");
    }
  }

  @Test
  void askTimeoutIs503WithRetryAfter() {
    try (TestNode node = TestNode.startUnready("imsync.ask-timeout = 1ms")) {
      Api.Response r = node.api().get("/v1/groups", deviceToken("slow-" + System.nanoTime(), "phone"));
      assertEquals(503, r.status());
      assertEquals("unavailable", r.errorCode());
      assertEquals("1", r.raw().headers().firstValue("Retry-After").orElseThrow());
    }
  }
}
