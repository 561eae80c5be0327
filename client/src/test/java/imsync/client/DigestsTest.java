package imsync.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class DigestsTest {

  static Session session(String id, long version) {
    return new Session(Json.parse("{\"session_id\":\"" + id + "\",\"version\":" + version + "}"));
  }

  @Test
  void bucketsAndDigestsFollowTheApiText() {
    // expected values computed independently from the API text (sha256 of the id, and of id + "\n" + version)
    assertEquals(2, Digests.bucketOf("dm:bob", 8));
    assertEquals(4, Digests.bucketOf("g:team", 8));
    assertEquals("8713d51a33ab1e13", Digests.hex(Digests.contribution("dm:bob", 42)));
    String[] d = Digests.of(List.of(session("dm:bob", 42), session("g:team", 7), session("dm:carol", 3)), 8);
    assertArrayEquals(new String[] {"0000000000000000", "0000000000000000", "8713d51a33ab1e13", "0000000000000000",
        "3dd87494d8426a30", "0000000000000000", "0000000000000000", "e35365c0c2e26d0c"}, d);
  }

  @Test
  void bucketCountsArePowersOfTwoWithinTheApiRange() {
    assertEquals(1, Digests.bucketsFor(0));
    assertEquals(1, Digests.bucketsFor(3));
    assertEquals(128, Digests.bucketsFor(200));
    assertEquals(4096, Digests.bucketsFor(1_000_000));
    assertThrows(IllegalArgumentException.class, () -> Digests.of(List.of(), 12));
  }
}
