/// Turns the evidence on one image into one decision per handle and a verdict, following the
/// operation table of docs/stale-handle-policy.md. Pure: the same evidence always gives the same decisions,
/// which is what lets `check` show exactly what a start would do.
///
/// Prefer downtime to corruption: a handle is closed only with positive evidence its holder is
/// gone (or when the operator forces it), never on incomplete listings, never on a shareable or
/// readonly disk, never for a protected client.
public struct LockHygieneDecider: Sendable {
    public var policy: HygienePolicy

    public init(policy: HygienePolicy) { self.policy = policy }

    public func decide(_ evidence: ImageEvidence, disk: DiskAccess = .exclusive) -> ImageDecisions {
        let decisions = decideHandles(evidence, disk: disk)
        // Several holders are normal on a shareable or read-only disk: claims do not apply.
        guard !disk.shareable, !disk.readonly, !evidence.claims.isEmpty else { return decisions }
        return applyingClaims(to: decisions, evidence: evidence)
    }

    /// The holder-claim rule (docs/stale-handle-policy.md, "Holder claims"), after the handles
    /// are decided: another host's fresh claim refuses a start (nothing closed, even with no
    /// handle on the image); a start that proceeds takes over every other host's stale or
    /// fenced claim (a takeover record names each). Claims that could not be read may hide a
    /// fresh one: missing evidence refuses a start the same way. A migration is never refused
    /// and takes nothing over by claim (the source's claim is expected). Claims never cause a
    /// close.
    func applyingClaims(to handleDecisions: ImageDecisions, evidence: ImageEvidence) -> ImageDecisions {
        var result = handleDecisions
        result.claims = HolderClaimJudgement(freshSeconds: policy.heartbeatFreshSeconds).judge(evidence)
        let alive = result.claims.filter { $0.status == .alive }
        let unread = result.claims.filter { $0.status == .unread }
        let takenOver = result.claims.filter { $0.status == .stale || $0.status == .fenced }
        guard policy.operation == .start else { return result }
        if policy.force {
            // The operator says the holder is gone: its claim is taken over like a stale one.
            if !alive.isEmpty, result.verdict == .proceed {
                result.summary += "; fresh claim of \(Self.hosts(alive)) overridden (--force)"
            }
            if !unread.isEmpty, result.verdict == .proceed {
                result.summary += "; claims not all read, overridden (--force)"
            }
            result.claimTakeovers = result.verdict == .proceed ? (alive + takenOver).compactMap(\.fact) : []
            return result
        }
        let refusing = alive + unread
        guard refusing.isEmpty else {
            let why = alive.isEmpty ? "the image's holder claims could not all be read" : "another host's fresh claim on the image"
            for index in result.decisions.indices where result.decisions[index].action == .close {
                result.decisions[index].action = .keep
                result.decisions[index].reason += " — not closed after all: \(why) refuses the start"
            }
            let claimLine = refusing.map(\.note).joined(separator: "; ")
            let refusal = alive.isEmpty
                ? "refused: \(claimLine); nothing closed (remove what does not belong in the claim directory, or --force overrides)"
                : "refused: the image has a holder proven alive by its claim: \(claimLine); nothing closed"
            result.summary = result.verdict == .refuse ? result.summary + "; and \(claimLine)" : refusal
            result.verdict = .refuse
            result.claimTakeovers = []
            return result
        }
        result.claimTakeovers = result.verdict == .proceed ? takenOver.compactMap(\.fact) : []
        if !result.claimTakeovers.isEmpty {
            result.summary += "; stale claim of \(Self.hosts(takenOver)) taken over (a takeover record names it)"
        }
        return result
    }

    static func hosts(_ claims: [JudgedClaim]) -> String {
        claims.compactMap(\.fact).map { "\($0.hostShown) for domain \($0.domainShown)" }.joined(separator: ", ")
    }

    func decideHandles(_ evidence: ImageEvidence, disk: DiskAccess) -> ImageDecisions {
        guard !evidence.handles.isEmpty else {
            return ImageDecisions(decisions: [], verdict: .proceed, summary: "no handles open")
        }
        if disk.shareable || disk.readonly {
            return sharedDiskDecisions(evidence, disk: disk)
        }
        var classifier = StaleHandleClassifier(staleAfterSeconds: policy.staleAfterSeconds)
        classifier.heartbeatFreshSeconds = policy.heartbeatFreshSeconds
        let classified = evidence.handles.map { ($0, classifier.classify($0, on: evidence)) }
        let anyLive = classified.contains { $0.1.kind == .live }
        let incomplete = evidence.incompleteListings
        var decisions: [HandleDecision] = []
        for (handle, classification) in classified {
            let (action, verb) = action(for: classification, evidence: evidence, anyLive: anyLive, incomplete: incomplete)
            var decision = HandleDecision(
                handle: handle, classification: classification.kind, action: action,
                reason: "\(classification.kind.rawValue): \(classification.explanation); \(verb)",
                clientAddresses: classification.clientAddresses, idleSeconds: classification.idleSeconds)
            decision.heartbeats = classification.heartbeats
            decisions.append(decision)
        }
        let refused = decisions.contains { $0.action == .refuse }
        return ImageDecisions(decisions: decisions, verdict: refused ? .refuse : .proceed, summary: summary(decisions, refused: refused))
    }

    private func action(
        for classification: StaleHandleClassifier.Classification, evidence: ImageEvidence, anyLive: Bool, incomplete: [String]
    ) -> (HandleAction, String) {
        let isProtected = classification.clientAddresses.contains { evidence.protectedClients.contains($0) }
        if isProtected {
            switch (policy.operation, policy.force) {
            case (.start, false): return (.refuse, "never closed; the start is refused while it holds the image")
            default: return (.keep, "never closed, even when forced")
            }
        }
        if policy.force {
            return (.close, "forced by the operator (--force)")
        }
        switch classification.kind {
        case .shared:
            return (.keep, "shared disk")
        case .unattributable:
            return (.report, "not closed (--force closes it)")
        case .live:
            switch policy.operation {
            case .start where classification.provenByHeartbeat:
                return (.refuse, "not closed; the start is refused while that host keeps beating: stop the domain there, or --force overrides")
            case .start:
                return (.refuse, "not closed; the start is refused until the holder stops or its session goes stale (--force overrides)")
            case .migration:
                return (.keep, "kept (migration source)")
            }
        case .stale:
            if !incomplete.isEmpty {
                return (.report, "not closed: the \(incomplete.joined(separator: ", ")) listing was incomplete, so the evidence may be missing a live holder")
            }
            if anyLive {
                switch policy.operation {
                case .start: return (.keep, "not closed: a live holder on the image refuses the start")
                case .migration: return (.keep, "not closed: a live holder (the migration source) is on the image")
                }
            }
            return (.close, "no live holder: safe to close")
        }
    }

    private func sharedDiskDecisions(_ evidence: ImageEvidence, disk: DiskAccess) -> ImageDecisions {
        let kind = disk.shareable ? "shareable" : "readonly"
        let holders = evidence.grantAddresses.sorted()
        let decisions = evidence.handles.map { handle in
            HandleDecision(
                handle: handle, classification: .shared, action: .keep,
                reason: "\(kind) disk: several holders are legitimate (owner \(handle.ownerName)\(holders.isEmpty ? "" : ", clients \(holders.joined(separator: ", "))")); never closed",
                clientAddresses: holders, idleSeconds: nil)
        }
        return ImageDecisions(decisions: decisions, verdict: .proceed, summary: "\(kind) disk: \(decisions.count) handle(s) kept")
    }

    private func summary(_ decisions: [HandleDecision], refused: Bool) -> String {
        let count = { (action: HandleAction) in decisions.filter { $0.action == action }.count }
        if refused {
            let live = decisions.filter { $0.action == .refuse }
            let addresses = Set(live.flatMap(\.clientAddresses)).sorted()
            return "refused: \(live.count) live handle(s) held from \(addresses.isEmpty ? "unknown addresses" : addresses.joined(separator: ", ")); nothing closed"
        }
        var parts: [String] = []
        for action in HandleAction.allCases where count(action) > 0 {
            parts.append("\(count(action)) \(action == .close ? "to close" : action == .keep ? "kept" : action == .report ? "reported" : "refused")")
        }
        return "proceed: " + parts.joined(separator: ", ")
    }

    /// The start of a domain is all or nothing: when any image refuses, nothing is closed on any
    /// image ("refuse: close nothing"). Closes on the other images become keeps naming why.
    public static func applyingDomainRefusal(_ images: [ImageDecisions]) -> [ImageDecisions] {
        guard images.contains(where: { $0.verdict == .refuse }) else { return images }
        return images.map { image in
            guard image.verdict == .proceed else { return image }
            var adjusted = image
            for index in adjusted.decisions.indices where adjusted.decisions[index].action == .close {
                adjusted.decisions[index].action = .keep
                adjusted.decisions[index].reason += " — not closed after all: another disk of the domain refuses the start"
            }
            // The domain does not start: nothing of it is taken over.
            adjusted.claimTakeovers = []
            return adjusted
        }
    }
}
