import SmbvolSystem

/// One spelling per client address, so that a grant's `owner_address`, a session's
/// `originator`, this host's interface addresses and configured addresses compare equal when
/// they name the same client. A mismatch would make a live holder look stale — the dangerous
/// direction — so every address goes through here before it is compared.
///
/// IPv4 stays dotted quad; IPv6 gets its canonical compressed lowercase form (RFC 5952, as
/// inet_ntop writes it) without a `%scope`; an IPv4-mapped IPv6 address (`::ffff:10.0.0.5`)
/// becomes the IPv4 address. Anything else (a name) is lowercased and kept
/// (`NetworkAddresses.canonical`).
public enum ClientAddress {
    public static func canonical(_ text: String) -> String { NetworkAddresses.canonical(text) }

    public static func canonical<S: Sequence<String>>(_ addresses: S) -> Set<String> {
        Set(addresses.map(canonical))
    }
}
