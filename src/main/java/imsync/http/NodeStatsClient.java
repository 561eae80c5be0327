package imsync.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.receptionist.Receptionist;
import imsync.metrics.NodeStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Asks every node's {@link NodeStats} (found through the Receptionist) at once; a node that does not answer in time is left out. */
final class NodeStatsClient {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  private final ActorSystem<?> system;

  NodeStatsClient(ActorSystem<?> system) {
    this.system = system;
  }

  /** Stats by member address of the nodes that answered. */
  CompletionStage<Map<String, NodeStats.Stats>> gather() {
    CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
        (ActorRef<Receptionist.Listing> r) -> Receptionist.find(NodeStats.KEY, r), TIMEOUT, system.scheduler());
    return listing.thenComposeAsync(l -> {
      List<CompletableFuture<NodeStats.Stats>> asks = new ArrayList<>();
      for (ActorRef<NodeStats.Command> node : l.getServiceInstances(NodeStats.KEY)) {
        asks.add(AskPattern.<NodeStats.Command, NodeStats.Stats>ask(node, NodeStats.Get::new, TIMEOUT, system.scheduler())
            .toCompletableFuture().handleAsync((stats, failure) -> failure == null ? stats : null, HttpSupport.IN_PLACE));
      }
      return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApplyAsync(done -> {
        Map<String, NodeStats.Stats> byAddress = new HashMap<>();
        for (CompletableFuture<NodeStats.Stats> f : asks) {
          NodeStats.Stats s = f.join();
          if (s != null) byAddress.put(s.address(), s);
        }
        return byAddress;
      }, HttpSupport.IN_PLACE);
    }, HttpSupport.IN_PLACE);
  }
}
