import SmbvolSystem

/// Addresses as a fence names them: single IPv4/IPv6 addresses in one canonical spelling.
public enum FenceAddress {
    public static func canonical(_ text: String) -> String { NetworkAddresses.canonical(text) }

    /// A literal IPv4 or IPv6 address: no name, no `/` block, no `-` range, no `%scope`.
    public static func isSingleAddress(_ text: String) -> Bool { NetworkAddresses.isSingleAddress(text) }

    /// Why `text` may not be fenced on its own merits (before comparing it with this host and the
    /// cluster), or nil.
    public static func problem(with text: String) -> String? {
        guard isSingleAddress(text) else {
            return "\"\(text)\" is not a single IP address: a fence names single addresses, never a range, a block or a name"
        }
        let address = canonical(text)
        if address == "0.0.0.0" || address == "::" || address == "255.255.255.255" {
            return "\(address) stands for no host or every host: it cannot be fenced"
        }
        if address.hasPrefix("127.") || address == "::1" {
            return "\(address) is a loopback address: it is this host, never a remote one"
        }
        return nil
    }
}
