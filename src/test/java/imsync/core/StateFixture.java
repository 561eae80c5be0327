package imsync.core;

import java.util.List;

/** Drives an {@link AccountState} the way the entity does: decide, then apply what was accepted. */
final class StateFixture {
  static final String ME = "me";
  final AccountState state;
  long clock = 1_000_000;

  StateFixture() {
    this(Limits.defaults());
  }

  StateFixture(Limits limits) {
    this.state = new AccountState(limits);
  }

  Decision run(Decision d) {
    if (d instanceof Decision.Accept a) a.events().forEach(state::apply);
    return d;
  }

  AccountState.IngestDecision ingest(IngestItem... items) {
    AccountState.IngestDecision d = state.decideIngest(ME, List.of(items));
    d.events().forEach(state::apply);
    return d;
  }

  long tick() {
    return clock += 1000;
  }

  IngestItem.Message msg(String sid, long seq, String sender) {
    return new IngestItem.Message(sid, "direct", "T " + sid, seq, sender, "p" + seq, tick(), List.of());
  }

  IngestItem.Message mention(String sid, long seq, String sender) {
    return new IngestItem.Message(sid, "group", "T " + sid, seq, sender, "p" + seq, tick(), List.of(ME));
  }

  Session s(String sid) {
    return state.session(sid);
  }
}
