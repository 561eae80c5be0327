package imsync.http;

import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.node.ObjectNode;
import imsync.Settings;
import imsync.account.AccountEntity;
import imsync.core.Device;

/** The account's device registry (device scope). */
public final class DeviceRoutes extends HttpSupport {

  public DeviceRoutes(Auth auth, Accounts accounts, Settings settings, RateLimiter limiter) {
    super(auth, accounts, settings, limiter);
  }

  /** {@code {"devices": [...], "version": n}}: also the operators' view of an account's devices. */
  static ObjectNode render(AccountEntity.DevicesReply d) {
    ObjectNode n = JsonViews.object();
    var arr = n.putArray("devices");
    for (Device device : d.devices()) {
      ObjectNode o = arr.addObject();
      o.put("device_id", device.deviceId());
      o.put("first_seen_at", device.firstSeenAt());
      o.put("last_seen_at", device.lastSeenAt());
      o.put("acked_version", device.ackedVersion());
      o.put("behind", Math.max(0, d.version() - device.ackedVersion()));
    }
    n.put("version", d.version());
    return n;
  }

  public Route route() {
    return pathPrefix(PathMatchers.segment("v1").slash("devices"), () -> authenticated(Auth.Scope.DEVICE, p -> concat(
        pathEnd(() -> get(() -> askAccount(p.accountId(), AccountEntity.GetDevices::new,
            reply -> render((AccountEntity.DevicesReply) reply)))),
        path(PathMatchers.segment(), rawId -> delete(() -> {
          String id = Json.id(rawId, Json.ACCOUNT_ID, "device_id");
          return askAccount(p.accountId(), r -> new AccountEntity.RemoveDevice(id, r), (reply, o) ->
              o.startObject().field("removed_device", ((AccountEntity.DeviceRemovedReply) reply).deviceId()).endObject());
        })))));
  }
}
