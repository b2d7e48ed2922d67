import HandleEvidence
import DiskImages
import HostHeartbeat
import LockHygiene
import Logging
import SmbvolLogging
import SmbvolShares
import SmbvolSystem

/// Handles a start has just closed on one image (confirmed by the cluster), with the decisions
/// that closed them: what `DomainHygiene.execute` hands to its `TakeoverRecording`.
public struct ClosedHandles: Sendable {
    public var domainName: String
    public var domainUUID: String
    public var image: ImageInspection
    public var decisions: [HandleDecision]
    /// The locations the cluster confirmed closed.
    public var closedLocations: [String]

    public init(domainName: String, domainUUID: String, image: ImageInspection, decisions: [HandleDecision], closedLocations: [String]) {
        self.domainName = domainName
        self.domainUUID = domainUUID
        self.image = image
        self.decisions = decisions
        self.closedLocations = closedLocations
    }

    /// The closed handles' decisions whose holder is another host: some holder address, none of
    /// them this host's.
    public func othersClosed(localAddresses: Set<String>) -> [HandleDecision] {
        let closed = Set(closedLocations)
        return decisions.filter { decision in
            decision.action == .close && closed.contains(decision.handle.location) && !decision.clientAddresses.isEmpty
                && localAddresses.isDisjoint(with: ClientAddress.canonical(decision.clientAddresses))
        }
    }
}

/// Other hosts' stale (or fenced, or forced-over) claims on an image a start has just taken:
/// what `DomainHygiene.execute` hands to its `TakeoverRecording` once the domain proceeds.
public struct ClaimTakeover: Sendable {
    public var domainName: String
    public var domainUUID: String
    public var image: ImageInspection
    public var claims: [HolderClaimFact]
    /// The handles closed on the same image, if any: a host their takeover record names
    /// already is not named twice.
    public var closedHandles: ClosedHandles?

    public init(domainName: String, domainUUID: String, image: ImageInspection, claims: [HolderClaimFact], closedHandles: ClosedHandles? = nil) {
        self.domainName = domainName
        self.domainUUID = domainUUID
        self.image = image
        self.claims = claims
        self.closedHandles = closedHandles
    }
}

/// Told about every successful close during a start, and every other host's claim a start took
/// over; leaves a takeover record when the closed handles or the claim were another host's
/// (docs/stale-handle-policy.md, "After a takeover: no zombie writers").
public protocol TakeoverRecording {
    func recordTakeover(_ closed: ClosedHandles)
    func recordClaimTakeover(_ taken: ClaimTakeover)
}

/// Writes the takeover record on the image's share, under `.smbvol/takeovers/` (the heartbeat
/// records' no-follow atomic writer). Never fails the start: the handles are already closed; a
/// record that cannot be written is a warning (`takeover-record-failed`), and the old holder then
/// relies on fencing or its own operator.
public struct ShareTakeoverRecorder: TakeoverRecording {
    public var hostID: String?
    public var hostname: String
    /// This host's addresses (interfaces, `local_addresses`): a handle from any of them is not
    /// another host's. Loopback is never published as the new holder's.
    public var localAddresses: Set<String>
    public var logger: Logger
    public var store = TakeoverStore()
    public var now: () -> Double = { SystemClock().wallClockSeconds() }

    public init(hostID: String?, hostname: String, localAddresses: Set<String>, logger: Logger) {
        self.hostID = hostID
        self.hostname = hostname
        self.localAddresses = localAddresses
        self.logger = logger
    }

    /// The record for `closed`, nil when no other host's handle was closed. Throws when the
    /// takeover cannot be described (no host_id, no file number, a path out of the share).
    public func record(for closed: ClosedHandles) throws -> TakeoverRecord? {
        let others = closed.othersClosed(localAddresses: localAddresses)
        guard !others.isEmpty else { return nil }
        guard let hostID else { throw TakeoverRecordError("this host's host_id is unknown (set host_id)") }
        guard let fileNumber = closed.image.fileNumber else { throw TakeoverRecordError("the cluster gave no file number for the image") }
        guard case .success(let path) = HeartbeatRecord.normalizedImagePath(closed.image.image.relativePath) else {
            throw TakeoverRecordError("the image's path is not below its share")
        }
        let oldAddresses = Set(others.flatMap { ClientAddress.canonical($0.clientAddresses) })
        // The old holder's host_id from its heartbeat record, when exactly one host is named.
        let oldHostIDs = Set(others.flatMap(\.heartbeats).filter { $0.status != .ignored }.compactMap(\.hostID))
        return TakeoverRecord(
            imagePath: path, fileNumber: fileNumber,
            newHolder: newHolder(hostID: hostID),
            domainName: HeartbeatRecord.isPrintable(closed.domainName, maximum: HeartbeatRecord.maximumDomainNameBytes) ? closed.domainName : "",
            domainUUID: closed.domainUUID, takenAt: now(),
            oldHolder: .init(
                hostID: oldHostIDs.count == 1 ? oldHostIDs.first : nil,
                addresses: oldAddresses.filter(HeartbeatRecord.isAddress).sorted().prefix(HeartbeatRecord.maximumAddresses).map { $0 }),
            closedHandles: others.map(\.handle.location).prefix(TakeoverRecord.maximumClosedHandles).map { $0 })
    }

    /// One record per claimed host (by host_id) the closed handles' record does not already
    /// name: no handle closed, the old holder named by its claim (host_id, hostname, addresses,
    /// domain). Throws when the takeover cannot be described.
    public func records(for taken: ClaimTakeover) throws -> [TakeoverRecord] {
        let alreadyNamed = taken.closedHandles.flatMap { try? record(for: $0) }?.oldHolder.hostID
        var seen: Set<String> = []
        let claims = taken.claims.filter { $0.hostID != alreadyNamed && seen.insert($0.hostID).inserted }
        guard !claims.isEmpty else { return [] }
        guard let hostID else { throw TakeoverRecordError("this host's host_id is unknown (set host_id)") }
        guard let fileNumber = taken.image.fileNumber else { throw TakeoverRecordError("the cluster gave no file number for the image") }
        guard case .success(let path) = HeartbeatRecord.normalizedImagePath(taken.image.image.relativePath) else {
            throw TakeoverRecordError("the image's path is not below its share")
        }
        let takenAt = now()
        return claims.map { claim in
            TakeoverRecord(
                imagePath: path, fileNumber: fileNumber, newHolder: newHolder(hostID: hostID),
                domainName: HeartbeatRecord.isPrintable(taken.domainName, maximum: HeartbeatRecord.maximumDomainNameBytes) ? taken.domainName : "",
                domainUUID: taken.domainUUID, takenAt: takenAt,
                oldHolder: .init(
                    hostID: claim.hostID, hostname: HeartbeatRecord.publishableHostname(claim.hostname),
                    addresses: claim.addresses.filter(HeartbeatRecord.isAddress).sorted().prefix(HeartbeatRecord.maximumAddresses).map { $0 },
                    domain: .init(
                        name: HeartbeatRecord.isPrintable(claim.domainName, maximum: HeartbeatRecord.maximumDomainNameBytes) ? claim.domainName : "",
                        uuid: claim.domainUUID)),
                closedHandles: [])
        }
    }

    func newHolder(hostID: String) -> TakeoverRecord.Holder {
        .init(
            hostID: hostID, hostname: HeartbeatRecord.publishableHostname(hostname),
            addresses: localAddresses.filter { HeartbeatRecord.isAddress($0) && $0 != "::1" && !$0.hasPrefix("127.") }.sorted().prefix(HeartbeatRecord.maximumAddresses).map { $0 })
    }

    public func recordClaimTakeover(_ taken: ClaimTakeover) {
        var event = AuditEvent(
            .takeoverRecorded, message: "another host's stale claim on the image taken over: takeover record left on the share (no handle of it was closed)")
        event[.domain] = taken.domainName
        event[.domainUUID] = taken.domainUUID
        event[.image] = taken.image.image.image
        event[.share] = taken.image.image.share.name
        event.extra["basis"] = "claim"
        do {
            for record in try records(for: taken) {
                var recorded = event
                recorded[.client] = record.oldHolder.addresses.joined(separator: ",")
                recorded.extra["file_number"] = record.fileNumber
                recorded.extra["old_host_id"] = record.oldHolder.hostID ?? ""
                recorded.extra["old_hostname"] = record.oldHolder.hostname ?? ""
                recorded.extra["old_domain"] = record.oldHolder.domain.map { $0.name.isEmpty ? $0.uuid : $0.name } ?? ""
                if let claim = taken.claims.first(where: { $0.hostID == record.oldHolder.hostID }) {
                    recorded[.reason] = "claim written \(claim.writtenAt) (\(Int(claim.ageSeconds.rounded(.down))) s ago)"
                    recorded.extra["claim_file"] = claim.file
                    recorded.extra["claim_age_seconds"] = String(Int(claim.ageSeconds.rounded(.down)))
                }
                do {
                    recorded.extra["file"] = try store.write(record, shareRoot: taken.image.image.shareDirectory)
                    logger.audit(recorded)
                } catch {
                    failed(recorded, error: error, taken: "another host's stale claim taken over")
                }
            }
        } catch {
            failed(event, error: error, taken: "another host's stale claim taken over")
        }
    }

    /// `event` as a takeover-record-failed audit: what was `taken` over, and that its old
    /// holder's domain is not stopped by smbvol if it comes back.
    private func failed(_ event: AuditEvent, error: any Error, taken: String) {
        var failed = event
        failed.kind = .takeoverRecordFailed
        failed.level = AuditEventKind.takeoverRecordFailed.defaultLevel
        failed.message = "\(taken) but no takeover record written; its domain is not stopped by smbvol if it comes back"
        failed.extra["error"] = LineEscaping.oneLine("\(error)")
        logger.audit(failed)
    }

    public func recordTakeover(_ closed: ClosedHandles) {
        var event = AuditEvent(.takeoverRecorded, message: "another host's SMB handles closed: takeover record left on the share")
        event[.domain] = closed.domainName
        event[.domainUUID] = closed.domainUUID
        event[.image] = closed.image.image.image
        event[.share] = closed.image.image.share.name
        do {
            guard let record = try record(for: closed) else { return }
            event[.client] = record.oldHolder.addresses.joined(separator: ",")
            event.extra["file_number"] = record.fileNumber
            event.extra["old_host_id"] = record.oldHolder.hostID ?? ""
            event.extra["locations"] = record.closedHandles.joined(separator: ",")
            let file = try store.write(record, shareRoot: closed.image.image.shareDirectory)
            event.extra["file"] = file
            logger.audit(event)
            store.sweep(fileNumber: record.fileNumber, shareRoot: closed.image.image.shareDirectory, now: record.takenAt)
        } catch {
            failed(event, error: error, taken: "another host's SMB handles closed")
        }
    }
}
