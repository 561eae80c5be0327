package imsync.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.openjdk.jol.info.GraphLayout;

/**
 * Issue 15's memory goal for what imsync itself keeps per account: the account's state costs at most 2 KB,
 * plus 300 B per session, plus its text (strings), by JOL's deep size. Small accounts (one or two group
 * chats) are most accounts; before this, an empty state alone held 64 digest buckets and five empty maps.
 */
class AccountFootprintTest {

  @Test
  void aSmallAccountsStateIsWithinTwoKilobytesPlusThreeHundredBytesASession() {
    for (int sessions = 0; sessions <= 3; sessions++) {
      AccountState st = new AccountState(Limits.defaults());
      for (int i = 0; i < sessions; i++) {
        st.apply(new AccountEvent.MessageIngested("team:" + i, "group", "Team " + i, 1, "peer" + i, "lunch at noon?",
            1_700_000_000_000L + i, false, false));
      }
      GraphLayout layout = GraphLayout.parseInstance(st);
      long text = 0;
      for (long address : layout.addresses()) {
        Class<?> k = layout.record(address).klass();
        if (k == String.class || k == byte[].class) text += layout.record(address).size();
      }
      long total = layout.totalSize();
      long bound = 2048 + 300L * sessions + text;
      System.out.printf("[footprint] %d sessions: %d B (%d of text); bound %d B%n", sessions, total, text, bound);
      assertTrue(total <= bound, sessions + " sessions: " + total + " B is over " + bound + " B\n" + layout.toFootprint());
    }
  }
}
