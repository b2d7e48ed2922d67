/// What happens to one handle.
public enum HandleAction: String, Sendable, Equatable, CaseIterable {
    /// Force-close it (the holder is gone, or the operator forced it).
    case close
    /// Leave it open: a legitimate holder.
    case keep
    /// Leave it open and refuse the operation: a live holder would lose its writes and locks.
    case refuse
    /// Leave it open and tell the operator: the evidence cannot decide.
    case report
}

/// Why a handle is thought to be held, or not, before the operation decides what to do.
public enum HandleClassification: String, Sendable, Equatable {
    case live
    case stale
    case unattributable
    /// Shareable or readonly disk: several holders are legitimate; not classified.
    case shared
}

/// One decision per handle, with the evidence an operator wants to read.
public struct HandleDecision: Sendable, Equatable {
    public var handle: HandleFacts
    public var classification: HandleClassification
    public var action: HandleAction
    /// One line: addresses, owner, idle time, time until stale, and what is done.
    public var reason: String
    /// The client addresses this decision rests on.
    public var clientAddresses: [String]
    /// Idle time of the most recently active session of the owner from those addresses.
    public var idleSeconds: Double?
    /// The heartbeat evidence on each holder address (empty when the image has no grants).
    public var heartbeats: [HolderHeartbeat] = []

    public init(
        handle: HandleFacts, classification: HandleClassification, action: HandleAction, reason: String,
        clientAddresses: [String], idleSeconds: Double?
    ) {
        self.handle = handle
        self.classification = classification
        self.action = action
        self.reason = reason
        self.clientAddresses = clientAddresses
        self.idleSeconds = idleSeconds
    }
}

/// Whether the operation may go ahead on one image.
public enum HygieneVerdict: String, Sendable, Equatable {
    case proceed
    case refuse
}

/// The decisions for every handle on one image and the image's verdict.
public struct ImageDecisions: Sendable, Equatable {
    public var decisions: [HandleDecision]
    public var verdict: HygieneVerdict
    /// One line summing up the image (why refused, what is closed).
    public var summary: String
    /// The holder claims on the image, as judged (empty for shareable and read-only disks,
    /// which several hosts may hold).
    public var claims: [JudgedClaim] = []
    /// Other hosts whose claim a proceeding start takes over: a takeover record names each of
    /// them, whether or not a handle of theirs was closed. Empty for a migration and for a
    /// refused image.
    public var claimTakeovers: [HolderClaimFact] = []

    /// The fresh claims of other hosts, and the claims that could not be read, that refuse
    /// this image (a start, not forced).
    public var refusingClaims: [JudgedClaim] { verdict == .refuse ? claims.filter { $0.status == .alive || $0.status == .unread } : [] }

    public init(decisions: [HandleDecision], verdict: HygieneVerdict, summary: String) {
        self.decisions = decisions
        self.verdict = verdict
        self.summary = summary
    }

    /// Locations the executor closes.
    public var locationsToClose: [String] { decisions.filter { $0.action == .close }.map(\.handle.location) }
}
