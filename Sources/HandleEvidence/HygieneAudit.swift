import LockHygiene
import Logging

/// The audit trail lock-hygiene.md asks for: every close and refusal, and every forced action,
/// to syslog (the `.notice` level goes there under ident smbvol) with the full context.
public struct HygieneAudit {
    public var logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func record(_ decision: HandleDecision, event: String, domainName: String, domainUUID: String, image: ImageInspection, outcome: String? = nil) {
        var metadata: Logger.Metadata = [
            "event": "\(event)",
            "domain": "\(domainName)",
            "domain_uuid": "\(domainUUID)",
            "image": "\(image.image.image)",
            "cluster_path": "\(image.clusterPath ?? "")",
            "file_number": "\(image.fileNumber ?? "")",
            "location": "\(decision.handle.location)",
            "owner": "\(decision.handle.ownerName)",
            "client_address": "\(decision.clientAddresses.joined(separator: ","))",
            "idle_seconds": "\(decision.idleSeconds.map { String(Int($0)) } ?? "")",
            "decision": "\(decision.action.rawValue)",
            "reason": "\(decision.reason)",
        ]
        if let outcome { metadata["outcome"] = "\(outcome)" }
        switch (event, outcome) {
        case ("close", .some(let result)) where result != "closed":
            logger.warning("SMB handle not closed", metadata: metadata)
        case ("close", _):
            logger.notice("closed stale SMB handle", metadata: metadata)
        default:
            logger.warning("refused: live SMB handle on the image", metadata: metadata)
        }
    }
}

extension HygieneAudit {
    /// Heartbeat evidence that proved nothing (no record, stale, this host's own, unusable): the
    /// session rules decided alone. One warning per holder address and image, so an operator
    /// can see why a quiet holder was not protected.
    public func recordIgnoredHeartbeats(_ inspection: DomainInspection) {
        for image in inspection.images {
            var seen: Set<String> = []
            for decision in image.decisions?.decisions ?? [] {
                for heartbeat in decision.heartbeats where heartbeat.deservesWarning && seen.insert(heartbeat.note).inserted {
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
}
