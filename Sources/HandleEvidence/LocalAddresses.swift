#if canImport(Glibc)
import Glibc
#endif

/// This host's addresses: every interface address (getifaddrs), plus `local_addresses` from the
/// configuration (NAT, a VIP the cluster sees instead). IPv6 link-local scope ids are dropped
/// (`fe80::1%eth0` → `fe80::1`), as the cluster reports originators without them.
public enum LocalAddresses {
    public static func current(extra: [String] = []) -> Set<String> {
        var addresses = Set(extra)
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
}
