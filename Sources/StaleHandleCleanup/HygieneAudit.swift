import HandleEvidence
import DiskImages
import LockHygiene
import Logging
import SmbvolLogging
import SmbvolShares

/// The audit trail docs/stale-handle-policy.md asks for: every close and refusal, and every forced action,
/// as one AuditEvent each (syslog line or journal entry under ident smbvol) with the full context.
public struct HygieneAudit {
    public var logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The fields every per-image event carries: the domain, the disk, the image, its share,
    /// cluster, cluster path and file number.
    static func describe(_ image: ImageInspection, of domainName: String, _ domainUUID: String, in event: inout AuditEvent) {
        event[.domain] = domainName
        event[.domainUUID] = domainUUID
        event[.disk] = image.image.target
        event[.image] = image.image.image
        event[.share] = image.image.share.name
        event[.cluster] = image.image.share.cluster
        event[.clusterPath] = image.clusterPath ?? ""
        if let fileNumber = image.fileNumber { event.extra["file_number"] = fileNumber }
    }

    public func record(_ decision: HandleDecision, event: String, domainName: String, domainUUID: String, image: ImageInspection, outcome: String? = nil) {
        logger.audit(auditEvent(decision, event: event, domainName: domainName, domainUUID: domainUUID, image: image, outcome: outcome))
    }

    func auditEvent(
        _ decision: HandleDecision, event: String, domainName: String, domainUUID: String, image: ImageInspection, outcome: String?
    ) -> AuditEvent {
        let kind: AuditEventKind
        let message: String
        switch (event, outcome) {
        case ("close", .some(let result)) where result != "closed":
            (kind, message) = (.closeFailed, "SMB handle not closed")
        case ("close", _) where decision.classification != .stale && decision.classification != .shared:
            (kind, message) = (.forcedClose, "force-closed SMB handle (operator forced)")
        case ("close", _):
            (kind, message) = (.close, "closed stale SMB handle")
        default:
            (kind, message) = (.refuse, "refused: live SMB handle on the image")
        }
        var audit = AuditEvent(kind, message: message, level: kind == .closeFailed ? .warning : nil)
        Self.describe(image, of: domainName, domainUUID, in: &audit)
        audit[.location] = decision.handle.location
        audit[.owner] = decision.handle.ownerName
        audit[.client] = decision.clientAddresses.joined(separator: ",")
        audit[.idleSeconds] = decision.idleSeconds.map { String(Int($0)) } ?? ""
        audit[.decision] = decision.action.rawValue
        audit[.reason] = decision.reason
        if let outcome { audit.extra["outcome"] = outcome }
        return audit
    }
}

extension HygieneAudit {
    /// Heartbeat evidence worth a warning: evidence that proved nothing (no record, stale, this
    /// host's own, unusable) — the session rules decided alone. One warning per holder address
    /// and image, so an operator can see why a quiet holder was not protected. Plus the
    /// anomalies (`recordHeartbeatAnomalies`).
    public func recordIgnoredHeartbeats(_ inspection: DomainInspection) {
        recordHeartbeatAnomalies(inspection)
        for image in inspection.images {
            var seen: Set<String> = []
            for decision in image.decisions?.decisions ?? [] {
                for heartbeat in decision.heartbeats where heartbeat.status != .alive && seen.insert(heartbeat.note).inserted {
                    logger.warning(
                        "heartbeat evidence ignored; the session rules decide",
                        metadata: [
                            "event": "heartbeat-ignored", "domain": "\(inspection.domainName)", "image": "\(image.image.image)",
                            "client_address": "\(heartbeat.address)", "status": "\(heartbeat.status.rawValue)", "reason": "\(heartbeat.note)",
                        ])
                }
            }
        }
    }

    /// What the operator must hear about even when the record proved the holder alive, one
    /// audit event per holder address and image: a host_id collision (`host-id-collision`: two
    /// hosts share a host_id, which the operator must fix) and a record read without some of
    /// its entries (`heartbeat-entry-dropped`).
    public func recordHeartbeatAnomalies(_ inspection: DomainInspection) {
        for image in inspection.images {
            var seen: Set<String> = []
            for decision in image.decisions?.decisions ?? [] {
                for heartbeat in decision.heartbeats where (heartbeat.collision || !heartbeat.droppedEntries.isEmpty) && seen.insert(heartbeat.note).inserted {
                    if heartbeat.collision {
                        var event = AuditEvent(
                            .hostIDCollision,
                            message: "a heartbeat record with this host's host_id lists addresses this host does not have: another host uses the same host_id; judged as another host's record",
                            extra: ["host_id": heartbeat.hostID ?? "", "status": heartbeat.status.rawValue])
                        event[.domain] = inspection.domainName
                        event[.image] = image.image.image
                        event[.client] = heartbeat.address
                        event[.reason] = heartbeat.note
                        logger.audit(event)
                    }
                    if !heartbeat.droppedEntries.isEmpty {
                        var event = AuditEvent(
                            .heartbeatEntryDropped, message: "heartbeat record read without entries no reader accepts; the rest of it was used",
                            extra: ["host_id": heartbeat.hostID ?? "", "entry": heartbeat.droppedEntries.joined(separator: "; ")])
                        event[.domain] = inspection.domainName
                        event[.image] = image.image.image
                        event[.client] = heartbeat.address
                        logger.audit(event)
                    }
                }
            }
        }
    }
}

extension HygieneAudit {
    /// A start (or hot-attach) refused because another host's fresh claim is on the image (or
    /// its claims could not all be read): one `refuse` audit event per claim, with the claim's host, addresses, domain, age and file
    /// (`basis=claim`: no handle was needed).
    public func recordClaimRefusal(_ claim: JudgedClaim, domainName: String, domainUUID: String, image: ImageInspection) {
        var event = AuditEvent(
            .refuse,
            message: claim.status == .unread
                ? "refused: the image's holder claims could not all be read (missing evidence)"
                : "refused: another host's fresh claim on the image proves a live holder")
        Self.describe(image, of: domainName, domainUUID, in: &event)
        event[.decision] = "refuse"
        event[.reason] = claim.note
        event.extra["basis"] = "claim"
        if let fact = claim.fact {
            event[.client] = fact.addresses.joined(separator: ",")
            event.extra["claim_host_id"] = fact.hostID
            event.extra["claim_hostname"] = fact.hostname
            event.extra["claim_domain"] = fact.domainShown
            event.extra["claim_domain_uuid"] = fact.domainUUID
            event.extra["claim_age_seconds"] = String(Int(fact.ageSeconds.rounded(.down)))
            event.extra["claim_written_at"] = fact.writtenAt
            event.extra["claim_file"] = fact.file
        }
        logger.audit(event)
    }

    /// Claims that proved nothing and deserve a word (an unusable, symlinked or misnamed file, a
    /// host_id collision, dropped entries): one warning each (`claim-ignored`), plus a
    /// `host-id-collision` audit event for a collision. This host's own claim is not worth one.
    public func recordClaimAnomalies(_ inspection: DomainInspection) {
        for image in inspection.images {
            for claim in image.decisions?.claims ?? [] where claim.deservesWarning {
                logger.warning(
                    "holder claim ignored or read in part",
                    metadata: [
                        "event": "claim-ignored", "domain": "\(inspection.domainName)", "image": "\(image.image.image)",
                        "status": "\(claim.status.rawValue)", "reason": "\(claim.note)",
                    ])
                if claim.collision, let fact = claim.fact {
                    var event = AuditEvent(
                        .hostIDCollision,
                        message: "a holder claim with this host's host_id lists addresses this host does not have: another host uses the same host_id; judged as another host's claim",
                        extra: ["host_id": fact.hostID, "status": claim.status.rawValue, "claim_file": fact.file])
                    event[.domain] = inspection.domainName
                    event[.image] = image.image.image
                    event[.client] = fact.addresses.joined(separator: ",")
                    event[.reason] = claim.note
                    logger.audit(event)
                }
            }
        }
    }
}
