import AttachmentLocks
import Logging
import QumuloClient
import SmbvolLogging
import SmbvolSystem

/// A host to fence or unfence: its name (a host_id, or the addresses themselves) and the single
/// addresses the cluster sees it by.
public struct FenceTarget: Sendable, Equatable {
    public var host: String
    public var addresses: Set<String>
    /// Where the addresses came from ("heartbeat records", "--address", "fence record").
    public var source: String
    /// Shares on which the host's heartbeat record is fresh (it still beats).
    public var beatingOn: [String]

    public init(host: String, addresses: Set<String>, source: String, beatingOn: [String] = []) {
        self.host = host
        self.addresses = addresses
        self.source = source
        self.beatingOn = beatingOn
    }
}

/// A share of the cluster a fence applies to.
public struct FencedShare: Sendable, Equatable {
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// `smbvol fence`, `unfence`, `fence --list` and the fence agent: storage fencing through the
/// share host restrictions and session close of one cluster. Every step is an audit
/// event; every write names the ETag it read (`If-Match`) and starts over from a fresh read
/// when the cluster answers 412, so an edit someone else made meanwhile is never lost.
public struct StorageFence {
    public var client: QumuloClient
    public var clusterName: String
    public var shares: [FencedShare]
    /// This host's addresses (interfaces + `local_addresses`): never fenced.
    public var localAddresses: Set<String>
    /// The cluster's addresses (configured host, node addresses seen in sessions): never fenced.
    public var clusterAddresses: Set<String>
    public var store: FenceRecordStore
    public var operatorName: String
    public var logger: Logger
    /// Progress lines for the operator (stdout of `fence`, stderr of the agent).
    public var say: (String) -> Void
    public var now: () -> String
    /// Edits lost to a concurrent one (412) are tried again this many times in all.
    public var maximumWriteAttempts = 5

    public init(
        client: QumuloClient, clusterName: String, shares: [FencedShare], localAddresses: Set<String>,
        clusterAddresses: Set<String>, store: FenceRecordStore, operatorName: String, logger: Logger,
        say: @escaping (String) -> Void, now: @escaping () -> String = { UTCTimestamp.iso8601(secondsSinceEpoch: SystemClock().wallClockSeconds()) }
    ) {
        self.client = client
        self.clusterName = clusterName
        self.shares = shares
        self.localAddresses = localAddresses
        self.clusterAddresses = clusterAddresses
        self.store = store
        self.operatorName = operatorName
        self.logger = logger
        self.say = say
        self.now = now
    }

    // MARK: - Refusals

    /// Why fencing `target` would lock out the wrong hosts, or nil.
    public func refusal(for target: FenceTarget) -> String? {
        guard !target.addresses.isEmpty else {
            return "no address to fence for \(target.host): it has no heartbeat record on a mounted share and no fence record; name its addresses with --address ADDR"
        }
        for address in target.addresses.sorted() {
            if let problem = FenceAddress.problem(with: address) { return problem }
            if localAddresses.contains(address) {
                return "\(address) is an address of this host: fencing it would cut this host off the share; fence from another host, or name the other host's addresses"
            }
            if clusterAddresses.contains(address) {
                return "\(address) is an address of the cluster: denying it could cut every client off; check the address"
            }
        }
        guard !shares.isEmpty else { return "no share to fence on: configure shares of cluster \(clusterName), or name one with --share" }
        return nil
    }

    /// A refusal found before the fence logic (a bad `--address`, this host's own host_id, no
    /// node): a `fence-refuse` audit event like every other refusal, and the error to throw.
    public func refused(_ reason: String, host: String, addresses: Set<String>, verb: String = "fence", dryRun: Bool = false) -> FenceFailure {
        refusedAudited(reason, target: FenceTarget(host: host, addresses: addresses, source: "--address"), verb: verb, dryRun: dryRun)
    }

    private func refusedAudited(_ reason: String, target: FenceTarget, verb: String, dryRun: Bool) -> FenceFailure {
        var extra = ["reason": reason, "action": verb]
        if dryRun { extra["dry_run"] = "1" }
        audit(.fenceRefused, "\(verb) refused", target: target, extra: extra)
        return FenceFailure("refused: \(reason)")
    }

    private func audit(_ kind: AuditEventKind, _ message: String, target: FenceTarget, share: FencedShare? = nil, extra: [String: String] = [:]) {
        var fields: [AuditField: String] = [.cluster: clusterName, .operator: operatorName]
        if let share { fields[.share] = share.name }
        var more = extra
        more["host"] = target.host
        more["addresses"] = target.addresses.sorted().joined(separator: ",")
        logger.audit(AuditEvent(kind, message: message, fields: fields, extra: more))
    }

    // MARK: - Fence

    public struct Outcome: Sendable, Equatable {
        /// Shares whose list was written (empty when every share already had the fence).
        public var changedShares: [String] = []
        public var closedSessions: [String] = []
        public var verified = false
    }

    /// Plans (dry run) or applies the fence of `target` on every share, closes its sessions and
    /// verifies both from the cluster. Throws `FenceFailure` on a refusal or a step that failed.
    @discardableResult
    public func fence(_ requested: FenceTarget, dryRun: Bool) throws -> Outcome {
        // A host fenced again with other addresses keeps every address it was fenced by: its new
        // entry is the union and replaces the old one, so nothing is un-denied behind the
        // operator's back and `unfence` later lifts one entry, whole.
        var target = requested
        let earlier = try store.records().first { $0.host == requested.host && $0.cluster == clusterName }.map { Set($0.addresses) }
        if let earlier, !earlier.isSubset(of: requested.addresses) {
            target.addresses.formUnion(earlier)
            say("\(requested.host) is fenced already by \(earlier.sorted().joined(separator: ", ")): fencing the union, never un-denying an address")
        }
        if let refusal = refusal(for: target) { throw refusedAudited(refusal, target: target, verb: "fence", dryRun: dryRun) }
        let addressList = target.addresses.sorted().joined(separator: ", ")
        say("fence \(target.host): addresses \(addressList) (from \(target.source)) on \(shares.count) share(s) of cluster \(clusterName)")
        if !target.beatingOn.isEmpty {
            say("warning: \(target.host) still beats (fresh heartbeat on \(target.beatingOn.joined(separator: ", "))): it may be alive; fencing cuts its VMs off their disks")
            logger.warning("fencing a host that still beats", metadata: ["host": "\(target.host)", "shares": "\(target.beatingOn.joined(separator: ","))"])
        }
        var outcome = Outcome()
        if dryRun {
            for share in shares {
                let current = try client.shareRestrictions(id: share.id)
                switch FenceRestrictions.fencing(current.networkPermissions, addresses: target.addresses, replacing: earlier) {
                case .unchanged: say("would leave share \(share.name): already fenced")
                case .write(let entries):
                    guard FenceRestrictions.admitsAnyone(entries) else {
                        throw refusedAudited(
                            "the new host restrictions of share \(share.name) would deny every address", target: target, verb: "fence", dryRun: true)
                    }
                    say("would put DENIED \(addressList) (all rights) first on share \(share.name): \(entries.count) entr\(entries.count == 1 ? "y" : "ies") after")
                }
            }
            let sessions = try sessionsFrom(target.addresses)
            say("would close \(sessions.count) SMB session(s) from \(addressList)")
            say("would verify the restrictions and the sessions by reading them back")
            return outcome
        }
        try store.update { records in
            if let index = records.firstIndex(where: { $0.host == target.host && $0.cluster == clusterName }) {
                // A repeated fence keeps its first time; the addresses and shares are today's.
                records[index].addresses = target.addresses.sorted()
                records[index].shares = shares.map { .init(id: $0.id, name: $0.name) }
            } else {
                records.append(
                    FenceRecord(
                        host: target.host, addresses: target.addresses.sorted(), shares: shares.map { .init(id: $0.id, name: $0.name) },
                        fencedAt: now(), fencedBy: operatorName, cluster: clusterName))
            }
        }
        for share in shares {
            let written = try edit(share, target: target, verb: "fence") { current throws(FenceFailure) in
                switch FenceRestrictions.fencing(current, addresses: target.addresses, replacing: earlier) {
                case .unchanged: return nil
                case .write(let entries):
                    guard FenceRestrictions.admitsAnyone(entries) else {
                        throw refusedAudited(
                            "the new host restrictions of share \(share.name) would deny every address", target: target, verb: "fence", dryRun: false)
                    }
                    return entries
                }
            }
            if written {
                outcome.changedShares.append(share.name)
                audit(.fence, "denied the fenced host's addresses on the share", target: target, share: share)
                say("share \(share.name): DENIED \(addressList) (all rights) put first")
            } else {
                say("share \(share.name): already fenced")
            }
        }
        outcome.closedSessions = try closeSessions(of: target)
        try verifyFenced(target)
        outcome.verified = true
        say("fenced \(target.host): verified on \(shares.count) share(s), no session left")
        return outcome
    }

    /// Reads, changes and writes one share's list with If-Match until it holds or attempts run
    /// out. `change` answers nil when nothing needs writing. Returns whether it wrote.
    private func edit(
        _ share: FencedShare, target: FenceTarget, verb: String,
        _ change: ([NetworkPermission]) throws(FenceFailure) -> [NetworkPermission]?
    ) throws -> Bool {
        var attempt = 0
        while true {
            attempt += 1
            let current = try client.shareRestrictions(id: share.id)
            guard let entries = try change(current.networkPermissions) else { return false }
            do {
                _ = try client.setNetworkPermissions(shareID: share.id, entries, ifMatch: current.etag)
                return true
            } catch let error where error.status == 412 || isLostAnswer(error) {
                let why = error.status == 412 ? "changed by someone else since it was read" : "no answer to the write"
                guard attempt < maximumWriteAttempts else {
                    audit(.fenceFailed, "\(verb) not written: the share kept changing", target: target, share: share, extra: ["error": "\(error)"])
                    throw FenceFailure("\(verb) of share \(share.name) not written after \(attempt) attempts: \(why) each time; run the command again")
                }
                logger.notice("share host restrictions \(why); reading them again", metadata: ["share": "\(share.name)", "attempt": "\(attempt)"])
            } catch {
                audit(.fenceFailed, "\(verb) not written", target: target, share: share, extra: ["error": "\(error)"])
                throw error
            }
        }
    }

    private func isLostAnswer(_ error: QumuloError) -> Bool {
        guard case .transport(let failure) = error.kind else { return false }
        switch failure {
        case .connection, .timedOut: return true
        default: return false
        }
    }

    private func sessionsFrom(_ addresses: Set<String>) throws -> [SMBSession] {
        try client.sessions().sessions.filter { addresses.contains(FenceAddress.canonical($0.originator)) }
    }

    private func closeSessions(of target: FenceTarget) throws -> [String] {
        let sessions = try sessionsFrom(target.addresses)
        guard !sessions.isEmpty else {
            say("no SMB session from \(target.addresses.sorted().joined(separator: ", "))")
            return []
        }
        let failed = try client.closeSessions(sessions)
        let failedLocations = Set(failed.map(\.location))
        var closed: [String] = []
        for session in sessions {
            let extra = ["session": session.location, "client_address": session.originator, "owner": session.user.authId ?? ""]
            if let failure = failed.first(where: { $0.location == session.location }) {
                audit(.fenceFailed, "SMB session of a fenced address not closed", target: target, extra: extra.merging(["error": failure.reason]) { $1 })
                say("session \(session.location) from \(session.originator) not closed: \(failure.reason)")
            } else {
                closed.append(session.location)
                audit(.fenceSessionClose, "closed SMB session of a fenced address", target: target, extra: extra)
                say("closed session \(session.location) from \(session.originator)")
            }
        }
        if !failedLocations.isEmpty {
            throw FenceFailure("\(failedLocations.count) session(s) of \(target.host) not closed; run the fence again (it is idempotent)")
        }
        return closed
    }

    /// Reads every share's list and the sessions back: the fence must be in force everywhere and
    /// no session from the addresses left.
    public func verifyFenced(_ target: FenceTarget) throws {
        var problems: [String] = []
        for share in shares {
            let current = try client.shareRestrictions(id: share.id)
            if !FenceRestrictions.isInForce(current.networkPermissions, addresses: target.addresses) {
                problems.append("share \(share.name) does not deny them first")
            }
        }
        let left = try sessionsFrom(target.addresses)
        if !left.isEmpty { problems.append("\(left.count) session(s) still open (\(left.map(\.location).joined(separator: ", ")))") }
        guard problems.isEmpty else {
            audit(.fenceFailed, "fence not verified", target: target, extra: ["error": problems.joined(separator: "; ")])
            throw FenceFailure("fence of \(target.host) not verified: \(problems.joined(separator: "; ")); run the fence again")
        }
        audit(.fenceVerified, "fence verified: denied on every share, no session left", target: target)
    }

    // MARK: - Unfence

    /// Removes exactly the fence entry of `target` from every share (nothing else changes), then
    /// verifies and forgets the fence record.
    @discardableResult
    public func unfence(_ target: FenceTarget, dryRun: Bool) throws -> [String] {
        guard !target.addresses.isEmpty else {
            throw refusedAudited(
                "no address known for \(target.host): no fence record and no heartbeat record; name its addresses with --address ADDR",
                target: target, verb: "unfence", dryRun: dryRun)
        }
        let addressList = target.addresses.sorted().joined(separator: ", ")
        say("unfence \(target.host): addresses \(addressList) (from \(target.source)) on \(shares.count) share(s) of cluster \(clusterName)")
        var changed: [String] = []
        for share in shares {
            if dryRun {
                let current = try client.shareRestrictions(id: share.id)
                switch FenceRestrictions.unfencing(current.networkPermissions, addresses: target.addresses) {
                case .unchanged: say("would leave share \(share.name): not fenced there")
                case .write: say("would remove the DENIED \(addressList) entry from share \(share.name)")
                }
                continue
            }
            let written = try edit(share, target: target, verb: "unfence") { current throws(FenceFailure) in
                switch FenceRestrictions.unfencing(current, addresses: target.addresses) {
                case .unchanged: return nil
                case .write(let entries): return entries
                }
            }
            if written {
                changed.append(share.name)
                audit(.unfence, "removed the fence entry from the share", target: target, share: share)
                say("share \(share.name): fence entry removed")
            } else {
                say("share \(share.name): not fenced there")
            }
        }
        if dryRun { return changed }
        var left: [String] = []
        for share in shares where FenceRestrictions.fenceEntries(try client.shareRestrictions(id: share.id).networkPermissions).contains(target.addresses) {
            left.append(share.name)
        }
        guard left.isEmpty else {
            audit(.fenceFailed, "unfence not verified", target: target, extra: ["error": "still denied on \(left.joined(separator: ","))"])
            throw FenceFailure("unfence of \(target.host) not verified: still denied on \(left.joined(separator: ", ")); run it again")
        }
        try store.update { records in records.removeAll { $0.host == target.host && $0.cluster == clusterName } }
        say("unfenced \(target.host): no fence entry left on \(shares.count) share(s)")
        return changed
    }

    // MARK: - Status and list

    public enum Status: Sendable, Equatable {
        /// No share denies the addresses.
        case notFenced
        /// Every share denies them first.
        case fenced
        /// Some shares do, some do not.
        case partial(fenced: [String], notFenced: [String])
    }

    public func status(of addresses: Set<String>) throws -> Status {
        var fenced: [String] = []
        var open: [String] = []
        for share in shares {
            let entries = try client.shareRestrictions(id: share.id).networkPermissions
            if FenceRestrictions.isInForce(entries, addresses: addresses) { fenced.append(share.name) } else { open.append(share.name) }
        }
        if open.isEmpty && !fenced.isEmpty { return .fenced }
        if fenced.isEmpty { return .notFenced }
        return .partial(fenced: fenced, notFenced: open)
    }

    /// One fenced host as `fence --list` shows it: the cluster's fence-shaped DENIED entries
    /// are the truth; the host is named by this host's fence record when it has one (then also
    /// since when and by whom), else by the heartbeat records that list the addresses — so a
    /// fence made on another host is named too.
    public struct Listed: Sendable, Equatable {
        /// The host_id; several joined by "," when several hosts' records list the addresses;
        /// "?" when nothing names it.
        public var host: String
        public var addresses: [String]
        public var shares: [String]
        public var fencedAt: String?
        public var fencedBy: String?
        /// Recorded here, but no share has the entry any more.
        public var inForce: Bool
        /// What named the host: "fence record" (made from this host), "heartbeat records", or
        /// nil (nothing did).
        public var hostSource: String?
        /// This host has a fence record of it (it was fenced from here).
        public var recordedHere: Bool
    }

    /// The fenced hosts. Entries with no fence record here come with host "?": the caller names
    /// them (`hostsListing`, or FenceSetup.hostsListing over the readable shares).
    public func list(hostsListing: (Set<String>) -> [String] = { _ in [] }) throws -> [Listed] {
        var sharesByAddresses: [[String]: [String]] = [:]
        var order: [[String]] = []
        for share in shares {
            for addresses in FenceRestrictions.fenceEntries(try client.shareRestrictions(id: share.id).networkPermissions) {
                let key = addresses.sorted()
                if sharesByAddresses[key] == nil { order.append(key) }
                sharesByAddresses[key, default: []].append(share.name)
            }
        }
        let records = try store.records().filter { $0.cluster == clusterName }
        var result: [Listed] = []
        for key in order {
            if let record = records.first(where: { Set($0.addresses) == Set(key) }) {
                result.append(
                    Listed(
                        host: record.host, addresses: key, shares: sharesByAddresses[key] ?? [], fencedAt: record.fencedAt,
                        fencedBy: record.fencedBy, inForce: true, hostSource: "fence record", recordedHere: true))
                continue
            }
            let named = hostsListing(Set(key))
            result.append(
                Listed(
                    host: named.isEmpty ? "?" : named.joined(separator: ","), addresses: key, shares: sharesByAddresses[key] ?? [],
                    fencedAt: nil, fencedBy: nil, inForce: true, hostSource: named.isEmpty ? nil : "heartbeat records", recordedHere: false))
        }
        for record in records where sharesByAddresses[record.addresses.sorted()] == nil {
            result.append(
                Listed(
                    host: record.host, addresses: record.addresses.sorted(), shares: [], fencedAt: record.fencedAt, fencedBy: record.fencedBy,
                    inForce: false, hostSource: "fence record", recordedHere: true))
        }
        return result
    }
}
