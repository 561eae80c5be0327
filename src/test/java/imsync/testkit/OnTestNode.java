package imsync.testkit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HTTP tests of one class share one node on the test Cassandra, started before the class and stopped
 * after it. Test classes run one after another in the suite's JVM, so the shared fields are never in
 * use by two classes at once.
 */
@ExtendWith(LocalCassandra.class)
public abstract class OnTestNode {
  protected static TestNode node;
  protected static Api api;

  @BeforeAll
  static void startNode() {
    node = TestNode.start();
    api = node.api();
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }
}
