#if canImport(Glibc)
import Glibc
#endif

/// One spelling per client address, so that a grant's `owner_address`, a session's
/// `originator`, this host's interface addresses and configured addresses compare equal when
/// they name the same client. A mismatch would make a live holder look stale — the dangerous
/// direction — so every address goes through here before it is compared.
///
/// IPv4 stays dotted quad; IPv6 gets its canonical compressed lowercase form (RFC 5952, as
/// inet_ntop writes it) without a `%scope`; an IPv4-mapped IPv6 address (`::ffff:10.0.0.5`)
/// becomes the IPv4 address. Anything else (a name) is lowercased and kept.
public enum ClientAddress {
    public static func canonical(_ text: String) -> String {
        let trimmed = text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? text
        var v4 = in_addr()
        if inet_pton(AF_INET, trimmed, &v4) == 1 { return format(family: AF_INET, &v4) ?? trimmed }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, trimmed, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return bytes[12..<16].map { String($0) }.joined(separator: ".")
            }
            return format(family: AF_INET6, &v6) ?? trimmed.lowercased()
        }
        return trimmed.lowercased()
    }

    public static func canonical<S: Sequence<String>>(_ addresses: S) -> Set<String> {
        Set(addresses.map(canonical))
    }

    private static func format<Address>(family: Int32, _ address: inout Address) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let written = withUnsafePointer(to: &address) { inet_ntop(family, $0, &buffer, socklen_t(buffer.count)) }
        guard written != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
