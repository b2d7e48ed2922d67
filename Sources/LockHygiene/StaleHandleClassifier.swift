/// Classifies one handle from the evidence on its image (docs/stale-handle-policy.md, "Classification of
/// one handle"). Pure: no I/O, no clock.
///
/// A handle is live when an address holding grants on the image is this host and a local process
/// has the image open (the kernel's view, whatever the sessions say); when such an address has a
/// session of the handle's owner idle less than `stale_after`, and that address is not this host
/// — or is this host and another local domain is recorded on the image; or when a protected
/// client holds grants on the image. With no way to pair a handle with a grant, every address in A counts for every
/// handle: with one shared service account, any live foreign holder makes every handle live.
public struct StaleHandleClassifier: Sendable {
    public var staleAfterSeconds: Double
    /// `heartbeat_fresh_seconds` (see `HeartbeatJudgement`).
    public var heartbeatFreshSeconds: Double = 30

    public init(staleAfterSeconds: Double) { self.staleAfterSeconds = staleAfterSeconds }

    public struct Classification: Sendable, Equatable {
        public var kind: HandleClassification
        /// Evidence in operator words, without the action.
        public var explanation: String
        public var clientAddresses: [String]
        public var idleSeconds: Double?
        /// The heartbeat evidence per holder address.
        public var heartbeats: [HolderHeartbeat] = []
        /// Live only because a fresh heartbeat record proves a holder alive.
        public var provenByHeartbeat = false
        /// Stale because every holder is fenced (denied by the share's host restrictions, no
        /// session left): positive evidence of death, whatever its heartbeat says.
        public var fenced = false
    }

    public func classify(_ handle: HandleFacts, on evidence: ImageEvidence) -> Classification {
        let holders = evidence.grantAddresses.sorted()
        guard !holders.isEmpty else {
            return Classification(
                kind: .unattributable,
                explanation: "owner \(handle.ownerName); the image has handles but no lock grants, so no client address can be tied to them",
                clientAddresses: [], idleSeconds: nil)
        }
        let protected = holders.filter { evidence.protectedClients.contains($0) }
        if !protected.isEmpty {
            return Classification(
                kind: .live,
                explanation: "protected client \(protected.joined(separator: ", ")) holds the image (protected_clients or --keep-client)",
                clientAddresses: protected, idleSeconds: nil)
        }
        if let fenced = fencedClassification(holders: holders, evidence: evidence) { return fenced }
        var liveReasons: [String] = []
        var liveAddresses: [String] = []
        var liveIdle: Double?
        var staleReasons: [String] = []
        var staleAddresses: [String] = []
        var staleIdle: Double?
        // A local process holds F open but no holder address is one of this host's: the cluster
        // sees this host by an address smbvol does not know (NAT, a VIP, an address added since,
        // `local_addresses` incomplete). The kernel still wins in the direction of liveness.
        let unknownLocalAddress = !evidence.localOpeners.isEmpty && holders.allSatisfy { !evidence.localAddresses.contains($0) }
        for address in holders {
            let isLocal = evidence.localAddresses.contains(address)
            // The kernel wins in the direction of liveness: a local process holding F open is
            // alive whatever the sessions and the records say.
            if isLocal && !evidence.localOpeners.isEmpty {
                liveReasons.append(
                    "this host (\(address)) holds it: open by local \(evidence.localOpeners.map(\.description).joined(separator: ", "))")
                liveAddresses.append(address)
                continue
            }
            if unknownLocalAddress {
                liveReasons.append(
                    "open by local \(evidence.localOpeners.map(\.description).joined(separator: ", ")), and the cluster sees its holder as \(address), "
                        + "not one of this host's addresses: this host may be \(address) (NAT, an address smbvol does not know; see local_addresses)")
                liveAddresses.append(address)
                continue
            }
            let ownSessions = evidence.sessions.filter { $0.originator == address && $0.ownerAuthId == handle.ownerAuthId }
            let who = isLocal ? "this host (\(address))" : address
            guard let freshest = ownSessions.min(by: { $0.idleSeconds < $1.idleSeconds }) else {
                staleReasons.append("\(who) has no session of \(handle.ownerName)")
                staleAddresses.append(address)
                continue
            }
            let idle = freshest.idleSeconds
            guard idle < staleAfterSeconds else {
                staleReasons.append(
                    "\(handle.ownerName)'s session from \(who) idle \(Self.seconds(idle)) (stale after \(Self.seconds(staleAfterSeconds)))")
                staleAddresses.append(address)
                staleIdle = min(staleIdle ?? idle, idle)
                continue
            }
            if isLocal && evidence.otherLocalDomains.isEmpty {
                staleReasons.append(
                    "\(who) holds it with \(handle.ownerName)'s session idle \(Self.seconds(idle)), but no local process has the image open and no other local domain is recorded on it (leftover of a killed qemu or a reboot)")
                staleAddresses.append(address)
                staleIdle = min(staleIdle ?? idle, idle)
                continue
            }
            let until = Self.seconds(staleAfterSeconds - idle)
            if isLocal {
                liveReasons.append(
                    "\(who) holds it for local domain \(evidence.otherLocalDomains.joined(separator: ", ")), session of \(handle.ownerName) idle \(Self.seconds(idle)), stale in \(until) if it stays idle")
            } else {
                liveReasons.append(
                    "\(handle.ownerName) has a session from \(address) idle \(Self.seconds(idle)), stale in \(until) if it stays idle")
            }
            liveAddresses.append(address)
            liveIdle = min(liveIdle ?? idle, idle)
        }
        // Heartbeats only ever add liveness: they are consulted after the session rules and can
        // turn "stale" into "live", never the other way round.
        let heartbeats = HeartbeatJudgement(freshSeconds: heartbeatFreshSeconds).judge(holders: holders, evidence: evidence)
        let alive = heartbeats.filter { $0.status == .alive }
        if !liveReasons.isEmpty {
            let proof = alive.isEmpty ? "" : "; heartbeat: " + alive.map(\.note).joined(separator: "; ")
            return Classification(
                kind: .live, explanation: liveReasons.joined(separator: "; ") + proof, clientAddresses: liveAddresses, idleSeconds: liveIdle,
                heartbeats: heartbeats)
        }
        if !alive.isEmpty {
            let addresses = Array(Set(alive.map(\.address))).sorted()
            return Classification(
                kind: .live,
                explanation: "proven alive by heartbeat: " + alive.map(\.note).joined(separator: "; ")
                    + " (the sessions alone would call it stale: " + staleReasons.joined(separator: "; ") + ")",
                clientAddresses: addresses, idleSeconds: staleIdle, heartbeats: heartbeats, provenByHeartbeat: true)
        }
        return Classification(
            kind: .stale, explanation: staleReasons.joined(separator: "; "), clientAddresses: staleAddresses, idleSeconds: staleIdle,
            heartbeats: heartbeats)
    }

    /// "Dead by fence" (docs/stale-handle-policy.md): every holder address is denied by the share's host
    /// restrictions as the cluster reports them and has no session left. Never for this host's
    /// addresses (the local rules and the kernel decide those). A fenced host that beats again
    /// is still fenced: its heartbeat is shown, and does not make the handle live. Never while a
    /// local process has the image open: the holder may be this host under an address smbvol
    /// does not know, and the kernel wins in the direction of liveness.
    private func fencedClassification(holders: [String], evidence: ImageEvidence) -> Classification? {
        guard evidence.localOpeners.isEmpty, holders.allSatisfy({ !evidence.localAddresses.contains($0) }),
            FenceEvidence.isDeadByFence(
                holderAddresses: Set(holders), restrictions: evidence.shareRestrictions,
                sessionOriginators: Set(evidence.sessions.map(\.originator)))
        else { return nil }
        let heartbeats = HeartbeatJudgement(freshSeconds: heartbeatFreshSeconds).judge(holders: holders, evidence: evidence)
        let alive = heartbeats.filter { $0.status == .alive }
        let beating = alive.isEmpty ? "" : "; its heartbeat says alive (" + alive.map(\.note).joined(separator: "; ") + "), but the cluster says it cannot write"
        return Classification(
            kind: .stale, explanation: "\(FenceEvidence.reason): " + FenceEvidence.explanation(holderAddresses: Set(holders)) + beating,
            clientAddresses: holders, idleSeconds: nil, heartbeats: heartbeats, fenced: true)
    }

    /// `12 s`, `4 min 5 s`, `2 h 3 min`: whole seconds, readable.
    public static func seconds(_ value: Double) -> String {
        let total = Int(value.rounded(.down))
        if total < 600 { return "\(max(total, 0)) s" }
        if total < 7200 { return "\(total / 60) min \(total % 60) s" }
        return "\(total / 3600) h \((total % 3600) / 60) min"
    }
}
