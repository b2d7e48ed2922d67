import QumuloClient

/// The pure rules of a storage fence on one share's host restrictions.
///
/// **How smbvol recognises its own entries.** The API's entries carry no description, so the
/// shape is the mark: a fence entry is `DENIED`, every right (`READ`, `WRITE`,
/// `CHANGE_PERMISSIONS`), and `address_ranges` made of single addresses only (never a CIDR
/// block, a dash range or `[]`), sorted — one entry per fenced host. An entry is the fence of a
/// host when its addresses are exactly that host's fenced addresses (from smbvol's fence record,
/// else from `--address` or the host's heartbeat records). Administrators' restrictions almost
/// always name ranges or fewer rights; one that denies exactly one host's single addresses with
/// every right is indistinguishable from, and means the same as, that host's fence.
public enum FenceRestrictions {
    /// The entry that fences `addresses` (canonical single addresses).
    public static func entry(for addresses: Set<String>) -> NetworkPermission {
        NetworkPermission(type: .denied, addressRanges: addresses.sorted(), rights: NetworkPermission.allRights)
    }

    /// Whether `entry` has the shape of an smbvol fence entry.
    public static func isFenceShaped(_ entry: NetworkPermission) -> Bool {
        entry.deniesEveryRight && !entry.addressRanges.isEmpty && entry.addressRanges.allSatisfy(isSingleAddress)
    }

    /// Whether `entry` is the fence of exactly `addresses`.
    public static func isFence(_ entry: NetworkPermission, of addresses: Set<String>) -> Bool {
        isFenceShaped(entry) && Set(entry.addressRanges.map(FenceAddress.canonical)) == addresses
    }

    /// A single IPv4 or IPv6 address (no `/`, no `-` range, no `*`).
    public static func isSingleAddress(_ text: String) -> Bool {
        FenceAddress.isSingleAddress(text)
    }

    public enum Change: Equatable, Sendable {
        /// Already as wanted: nothing to write.
        case unchanged
        case write([NetworkPermission])
    }

    /// The list with the fence of `addresses` first (after other fence entries only), every other
    /// entry kept as it was and in its order. An empty list means "every address may do
    /// everything": the result keeps that meaning for everyone else with an explicit entry.
    /// `replacing`: the addresses of an earlier fence of the same host, whose entry the new one
    /// (their superset) takes the place of — one entry per host, so `unfencing` lifts it whole.
    public static func fencing(_ current: [NetworkPermission], addresses: Set<String>, replacing earlier: Set<String>? = nil) -> Change {
        let superseded = earlier.flatMap { $0 != addresses ? $0 : nil }
        if let index = current.firstIndex(where: { isFence($0, of: addresses) }),
            current[..<index].allSatisfy({ $0.type == .denied }),
            !current.contains(where: { entry in superseded.map { isFence(entry, of: $0) } ?? false })
        {
            return .unchanged
        }
        var rest = current.filter { entry in !isFence(entry, of: addresses) && !(superseded.map { isFence(entry, of: $0) } ?? false) }
        if current.isEmpty { rest = [NetworkPermission(type: .allowed, addressRanges: [], rights: NetworkPermission.allRights)] }
        return .write([entry(for: addresses)] + rest)
    }

    /// The list without the fence of `addresses`; nothing else changes.
    public static func unfencing(_ current: [NetworkPermission], addresses: Set<String>) -> Change {
        guard current.contains(where: { isFence($0, of: addresses) }) else { return .unchanged }
        return .write(current.filter { !isFence($0, of: addresses) })
    }

    /// Whether the fence of `addresses` is in force on a list the cluster reports: present, and
    /// no ALLOWED entry above it (an earlier ALLOWED entry naming the address would win).
    public static func isInForce(_ current: [NetworkPermission], addresses: Set<String>) -> Bool {
        guard let index = current.firstIndex(where: { isFence($0, of: addresses) }) else { return false }
        return current[..<index].allSatisfy { $0.type == .denied }
    }

    /// Whether some address keeps some right under `entries` (a list with no ALLOWED entry
    /// shuts everyone out; an empty list lets everyone in).
    public static func admitsAnyone(_ entries: [NetworkPermission]) -> Bool {
        entries.isEmpty || entries.contains { $0.type == .allowed && !$0.rights.isEmpty }
    }

    /// Fenced addresses on a list: every fence-shaped entry's addresses, in list order.
    public static func fenceEntries(_ current: [NetworkPermission]) -> [Set<String>] {
        current.filter(isFenceShaped).map { Set($0.addressRanges.map(FenceAddress.canonical)) }
    }
}
