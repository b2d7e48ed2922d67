import SmbvolSystem

/// One entry of a share's host restrictions as the cluster reported it in this run (never read
/// from a file on the share): the facts the fence rule needs, nothing of the API's types.
public struct HostRestrictionFact: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case allowed
        case denied
    }

    public var kind: Kind
    /// Single addresses, CIDR blocks (`a.b.c.d/n`), dash ranges (`a.b.c.d-e` or `a.b.c.d-a.b.c.e`);
    /// empty means every address.
    public var addressRanges: [String]
    /// `READ`, `WRITE`, `CHANGE_PERMISSIONS` (`ALL` stands for the three).
    public var rights: Set<String>

    public init(kind: Kind, addressRanges: [String], rights: Set<String>) {
        self.kind = kind
        self.addressRanges = addressRanges
        self.rights = rights
    }
}

/// "Dead by fence" (docs/stale-handle-policy.md): a handle whose every holder address is
/// denied writing by the share's host restrictions, and none of which has an SMB session left,
/// is stale whatever its records or heartbeat say — its holder cannot write, and cannot
/// reconnect. Positive evidence of death; the reason is "fenced".
///
/// Safe by construction: unknown restrictions (not read, refused, unparsable) are never a
/// fence; an address an entry names by a form this rule does not understand is not denied by
/// that entry; any session from a holder address — live or idle — means the fence is not
/// complete, and the session rules decide as before.
public enum FenceEvidence {
    public static let reason = "fenced"

    /// Whether `restrictions` leave `address` without the WRITE right: entries apply top to
    /// bottom, the first naming the address and WRITE decides; once a list is set, an address
    /// no entry names is denied; an empty list (the cluster's default) denies nobody.
    ///
    /// An entry this rule cannot read (a range or the address in a form it does not parse) may
    /// name the address all the same: a DENIED one is skipped (it denies nobody here), an
    /// ALLOWED one ends the walk with "not denied" — skipping it would let a later DENIED entry,
    /// or "no entry names it", call a host the cluster lets write fenced.
    public static func deniesWrite(_ restrictions: [HostRestrictionFact], address: String) -> Bool {
        guard !restrictions.isEmpty else { return false }
        for entry in restrictions where grants(entry, "WRITE") {
            switch coverage(entry, address) {
            case .covers: return entry.kind == .denied
            case .unknown where entry.kind == .allowed: return false
            case .unknown, .not: continue
            }
        }
        return true
    }

    /// The rule. `holderAddresses`: the addresses holding grants on the image (A); empty is
    /// never a fence (unattributable handles stay unattributable). `restrictions`: nil when the
    /// share's restrictions were not read in this run. `sessionOriginators`: the originators of
    /// every SMB session the cluster listed in this run.
    public static func isDeadByFence(
        holderAddresses: Set<String>, restrictions: [HostRestrictionFact]?, sessionOriginators: Set<String>
    ) -> Bool {
        guard let restrictions, !holderAddresses.isEmpty else { return false }
        return holderAddresses.allSatisfy { address in
            deniesWrite(restrictions, address: address) && !sessionOriginators.contains(address)
        }
    }

    /// The one line `check` and the audit trail give for a handle closed by this rule.
    public static func explanation(holderAddresses: Set<String>) -> String {
        "every holder address (\(holderAddresses.sorted().joined(separator: ", "))) is denied by the share's host restrictions and has no SMB session left"
    }

    static func grants(_ entry: HostRestrictionFact, _ right: String) -> Bool {
        entry.rights.contains(right) || entry.rights.contains("ALL")
    }

    enum Coverage { case covers, not, unknown }

    /// Whether `entry` names `address`: `unknown` when it does not by the ranges this rule can
    /// read but a range, or the address itself, is in a form it cannot read.
    static func coverage(_ entry: HostRestrictionFact, _ address: String) -> Coverage {
        if entry.addressRanges.isEmpty { return .covers }
        guard AddressSpan.bytes(address) != nil else { return .unknown }
        var unreadable = false
        for range in entry.addressRanges {
            guard let span = AddressSpan(range) else {
                unreadable = true
                continue
            }
            if span.contains(address) { return .covers }
        }
        return unreadable ? .unknown : .not
    }
}

/// An `address_ranges` item as an inclusive span of 128-bit addresses (IPv4 mapped into IPv6).
struct AddressSpan: Equatable {
    let low: [UInt8]
    let high: [UInt8]

    init?(_ text: String) {
        if let slash = text.firstIndex(of: "/") {
            guard let base = Self.bytes(String(text[..<slash])), let bits = Int(text[text.index(after: slash)...]) else { return nil }
            let prefix = bits + (Self.isIPv4(String(text[..<slash])) ? 96 : 0)
            guard (0...128).contains(prefix), bits >= 0 else { return nil }
            var low = base
            var high = base
            for bit in prefix..<128 {
                let index = bit / 8
                let mask = UInt8(0x80) >> UInt8(bit % 8)
                low[index] &= ~mask
                high[index] |= mask
            }
            self.low = low
            self.high = high
        } else if let dash = text.firstIndex(of: "-") {
            let first = String(text[..<dash])
            let last = String(text[text.index(after: dash)...])
            guard let low = Self.bytes(first) else { return nil }
            var high: [UInt8]
            if let full = Self.bytes(last) {
                high = full
            } else if Self.isIPv4(first), let octet = UInt8(last) {
                high = low
                high[15] = octet
            } else {
                return nil
            }
            guard low.lexicographicallyPrecedes(high) || low == high else { return nil }
            self.low = low
            self.high = high
        } else {
            guard let single = Self.bytes(text) else { return nil }
            low = single
            high = single
        }
    }

    func contains(_ address: String) -> Bool {
        guard let value = Self.bytes(address) else { return false }
        return !value.lexicographicallyPrecedes(low) && !high.lexicographicallyPrecedes(value)
    }

    static func isIPv4(_ text: String) -> Bool { NetworkAddresses.isIPv4(text) }

    /// 16 bytes; IPv4 as ::ffff:a.b.c.d, so both families compare in one space.
    static func bytes(_ text: String) -> [UInt8]? { NetworkAddresses.bytes(text) }
}
