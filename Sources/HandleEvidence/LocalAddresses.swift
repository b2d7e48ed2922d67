import SmbvolSystem

/// This host's addresses: every interface address (getifaddrs), plus `local_addresses` from the
/// configuration (NAT, a VIP the cluster sees instead). IPv6 link-local scope ids are dropped
/// (`fe80::1%eth0` → `fe80::1`), as the cluster reports originators without them.
public enum LocalAddresses {
    public static func current(extra: [String] = []) -> Set<String> {
        Set(extra).union(NetworkAddresses.interfaceAddresses())
    }
}
