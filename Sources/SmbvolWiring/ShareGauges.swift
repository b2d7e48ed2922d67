import SmbvolUseCases
import AttachmentLocks
import SmbvolShares
import Logging
import SmbvolConfig
import SmbvolMetrics

/// smbvol_mounts and smbvol_attachment_locks{share}: from the lock store and the mount state of
/// the configured shares (and those the locks mention), as `smbvol mounts` shows them.
/// Recomputed at the end of a run that mounted, unmounted or changed a lock.
public struct ShareGauges {
    public let configuration: SmbvolConfiguration
    public let logger: Logger

    public init(configuration: SmbvolConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Records the gauges; a failure to read the state leaves them as they were (debug log).
    public func record(into recorder: MetricsRecorder = .shared) {
        do {
            let wiring = try CIFSShareAttachments.attachments(configuration: configuration, logger: logger)
            let statuses = try wiring.service.status(of: wiring.shares)
            var locks: [[String: String]: Double] = [:]
            for status in statuses { locks[["share": status.share.name], default: 0] += Double(status.locks.count) }
            recorder.replace(.attachmentLocks, with: locks)
            recorder.set(.mounts, value: Double(statuses.filter { $0.mounted && !$0.share.isLocal }.count))
        } catch {
            logger.debug("share gauges not updated", metadata: ["error": "\(error)"])
        }
    }
}
