/// File id → the client addresses holding a share-mode grant on it, for a cluster-wide listing:
/// 100 000 files, usually one address each, a few hundred distinct addresses. Addresses are
/// interned and canonical decimal ids are kept as integers, so the index costs about a third of
/// a `[String: [String]]` (which held the listing above 40 MB once read-ahead grew) and hashes
/// integers instead of strings.
struct GrantAddressIndex {
    private enum Holders {
        case one(UInt32)
        case several([UInt32])
    }

    private var table: [String] = []
    private var interned: [String: UInt32] = [:]
    private var numeric: [UInt64: Holders] = [:]
    /// Ids that are not canonical decimal numbers, compared as written (as before).
    private var other: [String: Holders] = [:]

    var isEmpty: Bool { numeric.isEmpty && other.isEmpty }

    mutating func removeAll() {
        table.removeAll()
        interned.removeAll()
        numeric.removeAll()
        other.removeAll()
    }

    mutating func insert(_ address: String, forFile fileID: String) {
        let reference: UInt32
        if let known = interned[address] {
            reference = known
        } else {
            reference = UInt32(table.count)
            table.append(address)
            interned[address] = reference
        }
        if let number = Self.canonicalNumber(fileID) {
            numeric[number] = Self.adding(reference, to: numeric[number])
        } else {
            other[fileID] = Self.adding(reference, to: other[fileID])
        }
    }

    /// The addresses on `fileID`, sorted; empty when none holds a grant.
    func addresses(ofFile fileID: String) -> [String] {
        let holders = Self.canonicalNumber(fileID).map { numeric[$0] } ?? other[fileID]
        switch holders {
        case nil: return []
        case .one(let reference): return [table[Int(reference)]]
        case .several(let references): return references.map { table[Int($0)] }.sorted()
        }
    }

    private static func adding(_ reference: UInt32, to holders: Holders?) -> Holders {
        switch holders {
        case nil: return .one(reference)
        case .one(let known): return known == reference ? .one(known) : .several([known, reference])
        case .several(let known): return known.contains(reference) ? .several(known) : .several(known + [reference])
        }
    }

    /// `id` as an integer when it is written the one canonical way ("42", not "042" or "+42"):
    /// then integer equality is exactly string equality.
    private static func canonicalNumber(_ id: String) -> UInt64? {
        let utf8 = id.utf8
        guard let first = utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9"), utf8.count <= 19 else { return nil }
        guard first != UInt8(ascii: "0") || utf8.count == 1 else { return nil }
        var value: UInt64 = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
