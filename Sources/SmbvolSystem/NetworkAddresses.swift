#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// IP addresses as smbvol compares, fences and resolves them: literal parsing (inet_pton), one
/// canonical spelling (inet_ntop), this host's interface addresses (getifaddrs) and a name's
/// addresses (getaddrinfo), in one place.
public enum NetworkAddresses {
    /// One spelling per address, so that two spellings of one client compare equal.
    ///
    /// IPv4 stays dotted quad; IPv6 gets its canonical compressed lowercase form (RFC 5952, as
    /// inet_ntop writes it) without a `%scope`; an IPv4-mapped IPv6 address (`::ffff:10.0.0.5`)
    /// becomes the IPv4 address. Anything else (a name) is lowercased and kept.
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

    /// Whether `text` is a literal IPv4 address (dotted quad).
    public static func isIPv4(_ text: String) -> Bool {
        var v4 = in_addr()
        return inet_pton(AF_INET, text, &v4) == 1
    }

    /// Whether `text` is a literal IPv4 or IPv6 address: no name, no `/` block, no `-` range, no
    /// `%scope`.
    public static func isSingleAddress(_ text: String) -> Bool {
        bytes(text) != nil
    }

    /// The 16 bytes of a literal address in network order, IPv4 as `::ffff:a.b.c.d`, so both
    /// families compare in one space; nil for anything that is not a literal address.
    public static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + withUnsafeBytes(of: v4.s_addr) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    /// Every address of this host's interfaces (getifaddrs), numeric, IPv6 link-local scope ids
    /// dropped (`fe80::1%eth0` → `fe80::1`); empty when they cannot be listed.
    public static func interfaceAddresses() -> Set<String> {
        var addresses: Set<String> = []
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return addresses }
        defer { freeifaddrs(list) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            if let address = entry.pointee.ifa_addr, let text = numericHost(address) {
                addresses.insert(text)
            }
            cursor = entry.pointee.ifa_next
        }
        return addresses
    }

    /// The numeric addresses `host` resolves to (getaddrinfo, as spelled by getnameinfo with
    /// NI_NUMERICHOST); empty when it does not resolve. A literal address gives itself.
    public static func resolve(_ host: String) -> Set<String> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var result: Set<String> = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                result.insert(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cursor = entry.pointee.ai_next
        }
        return result
    }

    static func numericHost(_ address: UnsafeMutablePointer<sockaddr>) -> String? {
        let family = Int32(address.pointee.sa_family)
        let length: Int
        switch family {
        case AF_INET: length = MemoryLayout<sockaddr_in>.size
        case AF_INET6: length = MemoryLayout<sockaddr_in6>.size
        default: return nil
        }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, socklen_t(length), &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return nil
        }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: "%").first.map(String.init)
    }

    private static func format<Address>(family: Int32, _ address: inout Address) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let written = withUnsafePointer(to: &address) { inet_ntop(family, $0, &buffer, socklen_t(buffer.count)) }
        guard written != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
