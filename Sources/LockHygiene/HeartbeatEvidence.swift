/// A well-formed heartbeat record found under a holder address (lock-hygiene.md, "Heartbeat
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

    public init(address: String, hostID: String, hostname: String, writtenAt: String, ageSeconds: Double, domainsOnImage: [String] = []) {
        self.address = address
        self.hostID = hostID
        self.hostname = hostname
        self.writtenAt = writtenAt
        self.ageSeconds = ageSeconds
        self.domainsOnImage = domainsOnImage
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

    public init(
        address: String, status: Status, hostID: String? = nil, hostname: String? = nil, ageSeconds: Double? = nil,
        writtenAt: String? = nil, domains: [String] = [], note: String
    ) {
        self.address = address
        self.status = status
        self.hostID = hostID
        self.hostname = hostname
        self.ageSeconds = ageSeconds
        self.writtenAt = writtenAt
        self.domains = domains
        self.note = note
    }

    /// Whether the hygiene should warn about it (records only add liveness: anything else is
    /// ignored, and the operator should know why).
    public var deservesWarning: Bool { status != .alive }
}

/// Judges the heartbeat observations of the holder addresses. Pure.
///
/// An address is proven alive when a record of another host (not `localHostID`), written within
/// `freshSeconds` — or dated in the future: clock skew errs on the side of "alive" — lists it,
/// and the address is not one of this host's (a record claiming this host's address is a
/// mistake or a forgery; the local rules decide for local addresses).
public struct HeartbeatJudgement: Sendable {
    public var freshSeconds: Double

    public init(freshSeconds: Double) { self.freshSeconds = freshSeconds }

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
        func make(_ status: HolderHeartbeat.Status, _ note: String) -> HolderHeartbeat {
            HolderHeartbeat(
                address: address, status: status, hostID: fact.hostID, hostname: fact.hostname, ageSeconds: fact.ageSeconds,
                writtenAt: fact.writtenAt, domains: fact.domainsOnImage, note: "\(address): \(note)")
        }
        if let own = evidence.localHostID, own == fact.hostID {
            return make(.ignored, "record of this host's own host_id \(own) ignored (the local rules apply)")
        }
        if evidence.localAddresses.contains(address) {
            return make(.ignored, "record of \(host) claims this host's address \(address): ignored (the local rules apply)")
        }
        let domains = fact.domainsOnImage.isEmpty
            ? "its record lists no domain on this image" : "its record lists domain \(fact.domainsOnImage.joined(separator: ", ")) on this image"
        if fact.ageSeconds < 0 {
            return make(.alive, "\(host) beat \(StaleHandleClassifier.seconds(-fact.ageSeconds)) in the future by this host's clock (counted as fresh); \(domains)")
        }
        guard fact.ageSeconds <= freshSeconds else {
            return make(.stale, "\(host) stale since \(fact.writtenAt): last beat \(StaleHandleClassifier.seconds(fact.ageSeconds)) ago (fresh within \(StaleHandleClassifier.seconds(freshSeconds)))")
        }
        return make(.alive, "\(host) beat \(StaleHandleClassifier.seconds(fact.ageSeconds)) ago; \(domains)")
    }
}
