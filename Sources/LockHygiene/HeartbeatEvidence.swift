/// A well-formed heartbeat record found under a holder address (docs/stale-handle-policy.md, "Heartbeat
/// evidence"), as facts: the reader did the I/O, the classifier decides what it proves.
public struct HeartbeatRecordFact: Sendable, Equatable {
    /// The holder address whose records it was read for (the record lists it).
    public var address: String
    public var hostID: String
    public var hostname: String
    /// As written in the record (ISO-8601 UTC).
    public var writtenAt: String
    /// This host's clock minus `writtenAt`; negative when the record is dated in the future.
    public var ageSeconds: Double
    /// The domains the record lists on the image being decided.
    public var domainsOnImage: [String]
    /// Every address the record lists (a record with this host's host_id that lists one this
    /// host does not have is another host's: a host_id collision).
    public var recordAddresses: [String]
    /// Entries of the record the reader dropped (one line each); the rest of the record stands.
    public var droppedEntries: [String]

    public init(
        address: String, hostID: String, hostname: String, writtenAt: String, ageSeconds: Double, domainsOnImage: [String] = [],
        recordAddresses: [String]? = nil, droppedEntries: [String] = []
    ) {
        self.address = address
        self.hostID = hostID
        self.hostname = hostname
        self.writtenAt = writtenAt
        self.ageSeconds = ageSeconds
        self.domainsOnImage = domainsOnImage
        self.recordAddresses = recordAddresses ?? [address]
        self.droppedEntries = droppedEntries
    }
}

/// What was found for one holder address: a record, or a file that could not be used.
public enum HeartbeatObservation: Sendable, Equatable {
    case record(HeartbeatRecordFact)
    /// Unreadable, oversized, malformed, symlinked, misnamed: ignored, with the reason.
    case unusable(address: String, reason: String)

    public var address: String {
        switch self {
        case .record(let fact): return fact.address
        case .unusable(let address, _): return address
        }
    }
}

/// The heartbeat evidence on one holder address, as `check` shows it.
public struct HolderHeartbeat: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        /// A fresh record of another host lists the address: the holder is proven alive.
        case alive
        /// The newest record is older than `heartbeat_fresh_seconds`.
        case stale
        /// No record lists the address.
        case noRecord = "no-record"
        /// A record that proves nothing: this host's own, one claiming one of this host's
        /// addresses, or an unusable file.
        case ignored
    }

    public var address: String
    public var status: Status
    public var hostID: String?
    public var hostname: String?
    public var ageSeconds: Double?
    public var writtenAt: String?
    public var domains: [String]
    /// One line for operators.
    public var note: String
    /// The record carries this host's host_id but lists addresses this host does not have:
    /// another host uses the same host_id. Judged as another host's record, with a warning.
    public var collision: Bool
    /// Entries of the record the reader dropped (the rest of it was used).
    public var droppedEntries: [String]

    public init(
        address: String, status: Status, hostID: String? = nil, hostname: String? = nil, ageSeconds: Double? = nil,
        writtenAt: String? = nil, domains: [String] = [], note: String, collision: Bool = false, droppedEntries: [String] = []
    ) {
        self.address = address
        self.status = status
        self.hostID = hostID
        self.hostname = hostname
        self.ageSeconds = ageSeconds
        self.writtenAt = writtenAt
        self.domains = domains
        self.note = note
        self.collision = collision
        self.droppedEntries = droppedEntries
    }

    /// Whether the hygiene should warn about it: records only add liveness, so anything that
    /// did not is worth knowing why — and so are a host_id collision and dropped entries, even
    /// when the record proved the holder alive.
    public var deservesWarning: Bool { status != .alive || collision || !droppedEntries.isEmpty }
}

/// Judges the heartbeat observations of the holder addresses. Pure.
///
/// A record with `localHostID` that lists an address this host does not have is a host_id
/// collision: another host's record, judged as such (and flagged), never ignored as this
/// host's own.
///
/// An address is proven alive when a record of another host (not `localHostID`), written within
/// `freshSeconds` — or dated in the future: clock skew errs on the side of "alive" — lists it,
/// and the address is not one of this host's (a record claiming this host's address is a
/// mistake or a forgery; the local rules decide for local addresses).
public struct HeartbeatJudgement: Sendable {
    public var freshSeconds: Double

    public init(freshSeconds: Double) { self.freshSeconds = freshSeconds }

    /// Whether a record `ageSeconds` old (by this host's clock) proves its host alive: younger
    /// than `freshSeconds`, or dated in the future (clock skew errs on the side of "alive").
    public func isFresh(ageSeconds: Double) -> Bool { ageSeconds <= freshSeconds }

    public func judge(holders: [String], evidence: ImageEvidence) -> [HolderHeartbeat] {
        var result: [HolderHeartbeat] = []
        for address in holders {
            let observations = evidence.heartbeats.filter { $0.address == address }
            if observations.isEmpty {
                result.append(HolderHeartbeat(address: address, status: .noRecord, note: "\(address): no heartbeat record"))
                continue
            }
            for observation in observations {
                result.append(judge(observation, address: address, evidence: evidence))
            }
        }
        return result
    }

    func judge(_ observation: HeartbeatObservation, address: String, evidence: ImageEvidence) -> HolderHeartbeat {
        guard case .record(let fact) = observation else {
            if case .unusable(_, let reason) = observation {
                return HolderHeartbeat(address: address, status: .ignored, note: "\(address): heartbeat record ignored: \(reason)")
            }
            return HolderHeartbeat(address: address, status: .ignored, note: "\(address): heartbeat record ignored")
        }
        let host = "host \(fact.hostname) (\(fact.hostID))"
        // A record with this host's host_id that lists addresses this host does not have was
        // written by another host using the same host_id (a cloned /etc/machine-id): it is that
        // host's proof of life, never "this host's own".
        let foreign = fact.recordAddresses.filter { !evidence.localAddresses.contains($0) }.sorted()
        let collision = evidence.localHostID == fact.hostID && !foreign.isEmpty
        let collisionNote = collision
            ? "HOST_ID COLLISION: a record with this host's own host_id \(fact.hostID) lists \(foreign.joined(separator: ", ")), "
                + "not this host's address(es): another host uses the same host_id (cloned /etc/machine-id?) and is judged as another host; "
                + "give one of them a distinct host_id in smbvol.toml. " : ""
        let droppedNote = fact.droppedEntries.isEmpty
            ? "" : " (record entries dropped, the rest used: \(fact.droppedEntries.joined(separator: "; ")))"
        func make(_ status: HolderHeartbeat.Status, _ note: String) -> HolderHeartbeat {
            HolderHeartbeat(
                address: address, status: status, hostID: fact.hostID, hostname: fact.hostname, ageSeconds: fact.ageSeconds,
                writtenAt: fact.writtenAt, domains: fact.domainsOnImage, note: "\(address): \(collisionNote)\(note)\(droppedNote)",
                collision: collision, droppedEntries: fact.droppedEntries)
        }
        if let own = evidence.localHostID, own == fact.hostID, !collision {
            return make(.ignored, "record of this host's own host_id \(own) ignored (the local rules apply)")
        }
        if evidence.localAddresses.contains(address), !collision {
            return make(.ignored, "record of \(host) claims this host's address \(address): ignored (the local rules apply)")
        }
        let domains = fact.domainsOnImage.isEmpty
            ? "its record lists no domain on this image" : "its record lists domain \(fact.domainsOnImage.joined(separator: ", ")) on this image"
        if fact.ageSeconds < 0 {
            return make(.alive, "\(host) beat \(StaleHandleClassifier.seconds(-fact.ageSeconds)) in the future by this host's clock (counted as fresh); \(domains)")
        }
        guard isFresh(ageSeconds: fact.ageSeconds) else {
            return make(.stale, "\(host) stale since \(fact.writtenAt): last beat \(StaleHandleClassifier.seconds(fact.ageSeconds)) ago (fresh within \(StaleHandleClassifier.seconds(freshSeconds)))")
        }
        return make(.alive, "\(host) beat \(StaleHandleClassifier.seconds(fact.ageSeconds)) ago; \(domains)")
    }
}
