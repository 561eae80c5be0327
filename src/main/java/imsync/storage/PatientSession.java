package imsync.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PrepareRequest;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.session.Request;
import com.datastax.oss.driver.api.core.type.reflect.GenericType;
import com.datastax.oss.driver.internal.core.session.SessionWrapper;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's session, except that an asynchronous prepare waits out a Cassandra outage (see {@link Outages})
 * instead of failing: every plugin prepares its statements once and keeps the result for good. A prepare that
 * is wrong (a syntax error) still fails at once. Everything else goes straight to the driver's session.
 */
public final class PatientSession extends SessionWrapper implements CqlSession {
  private static final Logger log = LoggerFactory.getLogger(PatientSession.class);

  public PatientSession(CqlSession delegate) {
    super(delegate);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <RequestT extends Request, ResultT> ResultT execute(RequestT request, GenericType<ResultT> resultType) {
    if (!PrepareRequest.ASYNC.equals(resultType) || !(request instanceof PrepareRequest prepare)) {
      return getDelegate().execute(request, resultType);
    }
    CompletionStage<PreparedStatement> prepared = Outages.untilAnswered("preparing \"" + abbreviated(prepare.getQuery()) + "\"",
        () -> getDelegate().execute(prepare, PrepareRequest.ASYNC), () -> getDelegate().closeFuture().toCompletableFuture().isDone(), log);
    return (ResultT) prepared;
  }

  private static String abbreviated(String cql) {
    String one = cql.strip().replaceAll("\\s+", " ");
    return one.length() <= 80 ? one : one.substring(0, 80) + "...";
  }
}
