import Foundation

/// A share's host restrictions (`network_permissions`), as the cluster evaluates them: entries
/// apply top to bottom, per right; the first entry naming both the address and the right decides;
/// once any entry exists, a right no entry grants is denied. `address_ranges: []` is every address.
public struct NetworkPermission: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case allowed = "ALLOWED"
        case denied = "DENIED"
    }

    public static let allRights = ["READ", "WRITE", "CHANGE_PERMISSIONS"]

    public var type: Kind
    public var addressRanges: [String]
    public var rights: [String]

    enum CodingKeys: String, CodingKey {
        case type, rights
        case addressRanges = "address_ranges"
    }

    public init(type: Kind, addressRanges: [String], rights: [String]) {
        self.type = type
        self.addressRanges = addressRanges
        self.rights = rights
    }

    /// The default a share has: every address, every right.
    public static let allowEveryone = NetworkPermission(type: .allowed, addressRanges: [], rights: allRights)

    /// Checks ranges and rights, expanding `ALL`; the message says what is wrong.
    func normalized() throws(NetworkPermissionError) -> NetworkPermission {
        var expanded: [String] = []
        for right in rights {
            let upper = right.uppercased().replacingOccurrences(of: " ", with: "_")
            if upper == "ALL" {
                expanded += Self.allRights
            } else if Self.allRights.contains(upper) {
                expanded.append(upper)
            } else {
                throw NetworkPermissionError("unknown right \"\(right)\" (READ, WRITE, CHANGE_PERMISSIONS or ALL)")
            }
        }
        var unique: [String] = []
        for right in Self.allRights where expanded.contains(right) { unique.append(right) }
        for range in addressRanges where AddressRange(range) == nil {
            throw NetworkPermissionError("invalid address range \"\(range)\"")
        }
        return NetworkPermission(type: type, addressRanges: addressRanges, rights: unique)
    }

    func covers(_ address: String) -> Bool {
        addressRanges.isEmpty || addressRanges.contains { AddressRange($0)?.contains(address) ?? false }
    }

    var json: JSONValue {
        .object([
            ("type", .string(type.rawValue)),
            ("address_ranges", .array(addressRanges.map(JSONValue.string))),
            ("rights", .array(rights.map(JSONValue.string))),
        ])
    }

    /// The rights `address` holds under `entries` (nil or empty: the default, everything).
    public static func rights(of address: String, under entries: [NetworkPermission]?) -> Set<String> {
        guard let entries, !entries.isEmpty else { return Set(allRights) }
        var granted: Set<String> = []
        for right in allRights {
            if let deciding = entries.first(where: { $0.rights.contains(right) && $0.covers(address) }),
                deciding.type == .allowed
            {
                granted.insert(right)
            }
        }
        return granted
    }
}

struct NetworkPermissionError: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// One `address_ranges` item: a single address, a CIDR block, or a dash range
/// (`10.0.0.5-10.0.0.9` or the short `10.0.0.5-9`). IPv6 is compared as single addresses only.
struct AddressRange: Sendable, Equatable {
    private enum Form: Equatable {
        case v4(low: UInt32, high: UInt32)
        case other(String)
    }

    private let form: Form

    init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let slash = trimmed.firstIndex(of: "/") {
            guard let base = Self.ipv4(String(trimmed[..<slash])),
                let bits = Int(trimmed[trimmed.index(after: slash)...]), (0...32).contains(bits)
            else { return nil }
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
            form = .v4(low: base & mask, high: (base & mask) | ~mask)
        } else if let dash = trimmed.firstIndex(of: "-") {
            let lowText = String(trimmed[..<dash])
            let highText = String(trimmed[trimmed.index(after: dash)...])
            guard let low = Self.ipv4(lowText) else { return nil }
            let high: UInt32
            if let full = Self.ipv4(highText) {
                high = full
            } else if let octet = UInt32(highText), octet <= 255 {
                high = (low & 0xFFFF_FF00) | octet
            } else {
                return nil
            }
            guard low <= high else { return nil }
            form = .v4(low: low, high: high)
        } else if let single = Self.ipv4(trimmed) {
            form = .v4(low: single, high: single)
        } else if trimmed.contains(":"), trimmed.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) {
            form = .other(trimmed.lowercased())
        } else {
            return nil
        }
    }

    func contains(_ address: String) -> Bool {
        switch form {
        case .v4(let low, let high):
            guard let value = Self.ipv4(address) else { return false }
            return low <= value && value <= high
        case .other(let text):
            return text == address.lowercased()
        }
    }

    static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isNumber), let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }
}
