/// Open handles, indexed so that a page of any listing costs O(log n + page).
///
/// Every handle gets an increasing sequence number; each index keeps its handles in sequence
/// order, so paging cursors ("after seq N") stay valid while handles come and go.
struct HandleTable: Sendable {
    private(set) var all: [HandleRecord] = []
    private(set) var byFile: [String: [HandleRecord]] = [:]
    private(set) var byAddress: [String: [HandleRecord]] = [:]
    private var locations: [String: HandleRecord] = [:]
    /// (client address, owner) → open handles, for sessions' `num_opens`.
    private var opens: [ClientKey: Int] = [:]
    private var nextSeq = 1

    struct ClientKey: Hashable, Sendable {
        var address: String
        var owner: String
    }

    var count: Int { all.count }

    func handle(at location: String) -> HandleRecord? { locations[location] }

    func openCount(address: String, owner: String) -> Int {
        opens[ClientKey(address: address, owner: owner)] ?? 0
    }

    /// Adds a handle; its `seq` is assigned here. Fails on a duplicate location.
    mutating func insert(_ handle: HandleRecord) throws(ScenarioError) {
        guard locations[handle.location] == nil else { throw .duplicateLocation(handle.location) }
        var handle = handle
        handle.seq = nextSeq
        nextSeq += 1
        all.append(handle)
        byFile[handle.fileNumber, default: []].append(handle)
        byAddress[handle.clientAddress, default: []].append(handle)
        locations[handle.location] = handle
        opens[ClientKey(address: handle.clientAddress, owner: handle.owner), default: 0] += 1
    }

    @discardableResult
    mutating func remove(location: String) -> HandleRecord? {
        guard let handle = locations.removeValue(forKey: location) else { return nil }
        Self.remove(seq: handle.seq, from: &all)
        Self.remove(seq: handle.seq, fromIndex: &byFile, key: handle.fileNumber)
        Self.remove(seq: handle.seq, fromIndex: &byAddress, key: handle.clientAddress)
        let key = ClientKey(address: handle.clientAddress, owner: handle.owner)
        let remaining = (opens[key] ?? 1) - 1
        opens[key] = remaining > 0 ? remaining : nil
        return handle
    }

    /// Removes every handle a client opened as `owner` (what closing its session does).
    mutating func removeAll(address: String, owner: String) {
        let doomed = (byAddress[address] ?? []).filter { $0.owner == owner }
        for handle in doomed { remove(location: handle.location) }
    }

    private static func remove(seq: Int, from list: inout [HandleRecord]) {
        let index = firstIndex(in: list, afterSeq: seq - 1)
        if index < list.count, list[index].seq == seq { list.remove(at: index) }
    }

    private static func remove(seq: Int, fromIndex index: inout [String: [HandleRecord]], key: String) {
        guard var list = index[key] else { return }
        index[key] = nil  // keep the array uniquely referenced while editing it
        remove(seq: seq, from: &list)
        if !list.isEmpty { index[key] = list }
    }

    /// Index of the first handle whose seq is greater than `afterSeq` (binary search).
    static func firstIndex(in list: [HandleRecord], afterSeq: Int) -> Int {
        var low = 0
        var high = list.count
        while low < high {
            let mid = (low + high) / 2
            if list[mid].seq <= afterSeq { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
