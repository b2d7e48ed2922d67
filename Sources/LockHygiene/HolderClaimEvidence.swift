/// A well-formed holder claim found on the image being decided (docs/stale-handle-policy.md,
/// "Holder claims"), as facts: the reader did the I/O, the judgement decides what it proves.
public struct HolderClaimFact: Sendable, Equatable {
    public var hostID: String
    public var hostname: String
    /// Every address the claim lists (canonical, sorted).
    public var addresses: [String]
    public var domainName: String
    public var domainUUID: String
    /// As written in the claim (ISO-8601 UTC).
    public var writtenAt: String
    /// This host's clock minus `writtenAt`; negative when the claim is dated in the future.
    public var ageSeconds: Double
    /// The claim's file below the share root.
    public var file: String
    /// Entries of the claim the reader dropped (one line each); the rest of it stands.
    public var droppedEntries: [String]

    public init(
        hostID: String, hostname: String, addresses: [String], domainName: String = "", domainUUID: String, writtenAt: String, ageSeconds: Double,
        file: String = "", droppedEntries: [String] = []
    ) {
        self.hostID = hostID
        self.hostname = hostname
        self.addresses = addresses
        self.domainName = domainName
        self.domainUUID = domainUUID
        self.writtenAt = writtenAt
        self.ageSeconds = ageSeconds
        self.file = file
        self.droppedEntries = droppedEntries
    }

    /// The domain as operators know it: its name, else its UUID.
    public var domainShown: String { domainName.isEmpty ? domainUUID : domainName }

    /// `host h2 (h2-id, 203.0.113.2)`.
    public var hostShown: String { "host \(hostname) (\(hostID), \(addresses.joined(separator: ", ")))" }
}

/// What was found in the image's claim directory: a claim, or a file that could not be used.
public enum HolderClaimObservation: Sendable, Equatable {
    case claim(HolderClaimFact)
    /// Oversized, malformed, symlinked, misnamed, about another image: ignored (the host's
    /// next beat replaces such a file with its claim).
    case unusable(file: String, reason: String)
    /// What may hide a live holder's claim: a claim directory that could not be listed (or only
    /// in part), claim files left unread in a crowded directory, a claim file that could not
    /// be read, an entry under a host's claim name that is no regular file.
    case unread(file: String, reason: String)
}

/// One claim as judged for a decision, as `check` shows it.
public struct JudgedClaim: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        /// Another host's claim written within `heartbeat_fresh_seconds` (or dated in the
        /// future), not fenced: the image has a holder proven alive.
        case alive
        /// Another host's claim older than `heartbeat_fresh_seconds`: no proof of life. A start
        /// that proceeds leaves a takeover record naming that host.
        case stale
        /// Another host's claim, every address of which the share's host restrictions deny
        /// writing: it cannot write, fresh or not. Treated as stale.
        case fenced
        /// This host's own claim, or a file that proves nothing (with the reason).
        case ignored
        /// Claim files or a claim directory that could not be read: a live holder's claim may
        /// be among them. Refuses a start like a fresh claim (missing evidence; `--force`
        /// overrides); nothing of it is taken over.
        case unread
    }

    public var status: Status
    /// Nil for an unusable file.
    public var fact: HolderClaimFact?
    /// One line for operators.
    public var note: String
    /// The claim carries this host's host_id but lists addresses this host does not have.
    public var collision: Bool
    /// This host's own claim (ignored as such: nothing to warn about).
    public var isOwn: Bool

    public init(status: Status, fact: HolderClaimFact?, note: String, collision: Bool = false, isOwn: Bool = false) {
        self.status = status
        self.fact = fact
        self.note = note
        self.collision = collision
        self.isOwn = isOwn
    }

    /// Whether the hygiene should warn about it (an ignored file, a collision, dropped entries).
    public var deservesWarning: Bool {
        (status == .ignored && !isOwn) || status == .unread || collision || !(fact?.droppedEntries.isEmpty ?? true)
    }
}

/// Judges the claims on one image. Pure.
///
/// A claim with `localHostID` is this host's own and ignored — unless it lists an address this
/// host does not have: then another host uses the same host_id (a cloned machine-id), and the
/// claim is judged as that host's (the heartbeat records' HOST_ID COLLISION rule). A claim of
/// another host_id that lists only this host's addresses is ignored too, with a warning (as a
/// record claiming this host's address is): the local rules decide for this host.
///
/// Another host's claim is **alive** when written within `freshSeconds` (a claim from the
/// future counts as fresh: clock skew errs on the side of "alive") and not every one of its
/// addresses is denied writing by the share's host restrictions read in this run (`FenceEvidence`);
/// it is **fenced** when all are; **stale** otherwise.
public struct HolderClaimJudgement: Sendable {
    public var freshSeconds: Double

    public init(freshSeconds: Double) { self.freshSeconds = freshSeconds }

    public func judge(_ evidence: ImageEvidence) -> [JudgedClaim] {
        evidence.claims.map { judge($0, evidence: evidence) }
    }

    /// Whether some claim would prove a holder alive unless fenced: the share's host
    /// restrictions are worth reading (one share listing per cluster and run).
    public func needsRestrictions(_ evidence: ImageEvidence) -> Bool {
        evidence.claims.contains { observation in
            guard case .claim(let fact) = observation else { return false }
            return isAnotherHost(fact, evidence: evidence).another && fact.ageSeconds <= freshSeconds
        }
    }

    func isAnotherHost(_ fact: HolderClaimFact, evidence: ImageEvidence) -> (another: Bool, collision: Bool, foreign: [String]) {
        let foreign = fact.addresses.filter { !evidence.localAddresses.contains($0) }.sorted()
        guard let own = evidence.localHostID, own == fact.hostID else { return (true, false, foreign) }
        return foreign.isEmpty ? (false, false, foreign) : (true, true, foreign)
    }

    func judge(_ observation: HolderClaimObservation, evidence: ImageEvidence) -> JudgedClaim {
        let fact: HolderClaimFact
        switch observation {
        case .claim(let claimed):
            fact = claimed
        case .unusable(let file, let reason):
            return JudgedClaim(status: .ignored, fact: nil, note: "holder claim \(file) ignored: \(reason)")
        case .unread(let file, let reason):
            return JudgedClaim(
                status: .unread, fact: nil, note: "holder claims not all read (\(file): \(reason)): a live holder's claim may be among them")
        }
        let (another, collision, foreign) = isAnotherHost(fact, evidence: evidence)
        let collisionNote = collision
            ? "HOST_ID COLLISION: a claim with this host's own host_id \(fact.hostID) lists \(foreign.joined(separator: ", ")), "
                + "not this host's address(es): another host uses the same host_id (cloned /etc/machine-id?) and is judged as another host; "
                + "give one of them a distinct host_id in smbvol.toml. " : ""
        let droppedNote = fact.droppedEntries.isEmpty ? "" : " (claim entries dropped, the rest used: \(fact.droppedEntries.joined(separator: "; ")))"
        func make(_ status: JudgedClaim.Status, _ note: String) -> JudgedClaim {
            JudgedClaim(status: status, fact: fact, note: "\(collisionNote)\(note)\(droppedNote)", collision: collision, isOwn: !another)
        }
        guard another else {
            return make(.ignored, "this host's own claim (domain \(fact.domainShown)) ignored (the local rules apply)")
        }
        let claim = "\(fact.hostShown) claims the image for domain \(fact.domainShown)"
        // As for heartbeat records: a claim that names only this host's addresses is this host
        // under another host_id, or a forgery — the local rules (the kernel's openers) decide.
        if !collision, !fact.addresses.isEmpty, fact.addresses.allSatisfy(evidence.localAddresses.contains) {
            return make(.ignored, "\(claim), but lists only this host's addresses: ignored (the local rules apply)")
        }
        if let restrictions = evidence.shareRestrictions, !restrictions.isEmpty,
            fact.addresses.allSatisfy({ FenceEvidence.deniesWrite(restrictions, address: $0) })
        {
            return make(.fenced, "\(claim), but the share's host restrictions deny every one of its addresses writing: fenced (treated as stale)")
        }
        if fact.ageSeconds < 0 {
            return make(.alive, "\(claim): claim written \(StaleHandleClassifier.seconds(-fact.ageSeconds)) in the future by this host's clock (counted as fresh)")
        }
        guard fact.ageSeconds <= freshSeconds else {
            return make(
                .stale,
                "\(claim): stale since \(fact.writtenAt), last written \(StaleHandleClassifier.seconds(fact.ageSeconds)) ago (fresh within \(StaleHandleClassifier.seconds(freshSeconds)))")
        }
        return make(.alive, "\(claim): claim written \(StaleHandleClassifier.seconds(fact.ageSeconds)) ago (fresh within \(StaleHandleClassifier.seconds(freshSeconds)))")
    }
}
