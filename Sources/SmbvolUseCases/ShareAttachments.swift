import AttachmentLocks
import Logging
import SmbvolConfig
import SmbvolShares
import SmbvolSystem

/// The attach side of one run: the configured shares (plus any from connection info) and the
/// attachment service that mounts them and keeps their locks. Built by a `ShareAttachmentsMaking`
/// (mount.cifs in the binary, SmbvolWiring; a recording mounter in tests); every use case that
/// mounts, locks or reads the locks takes this value.
public struct ShareAttachments: Sendable {
    public let configuration: SmbvolConfiguration
    /// The configured shares (resolved once, at load).
    public let catalog: ShareCatalog
    /// Shares from connection info (a hot-attach's): they bring their credentials.
    public let connectionInfoShares: [Share]
    /// Connection-info shares first (they carry the credentials), then the configured ones.
    public let shares: [Share]
    public let service: ShareAttachmentService

    public init(configuration: SmbvolConfiguration, catalog: ShareCatalog, connectionInfoShares: [Share] = [], service: ShareAttachmentService) {
        self.configuration = configuration
        self.catalog = catalog
        self.connectionInfoShares = connectionInfoShares
        shares = connectionInfoShares + catalog.shares
        self.service = service
    }

    /// An operator's share argument: a configured share by name, else a share only the locks
    /// know (from connection info).
    public func share(named name: String) throws -> Share {
        if let share = shares.first(where: { $0.name == name }) { return share }
        if let lock = try service.locks().first(where: { $0.share == name }) {
            return Share(recordedName: lock.share, mountPoint: lock.mountPoint)
        }
        throw MountConfigurationError.unknownShare(name: name, known: shares.map(\.name))
    }

    /// The operator commands' bound: the configured overall deadline.
    public var deadline: Deadline { .after(.milliseconds(Int64(configuration.deadlineSeconds * 1000)), clock: SystemClock()) }
}

/// Builds the attach side for a run's shares: the mounter and the lock store of the
/// configuration. Use cases that find their shares themselves (the heartbeat, the takeover
/// watch, fencing's borrowed mounts) take one of these instead of building the edges.
public protocol ShareAttachmentsMaking: Sendable {
    func attachments(for catalog: ShareCatalog, connectionInfoShares: [Share], logger: Logger) -> ShareAttachments
}

extension ShareAttachmentsMaking {
    /// The configured shares of `configuration`, resolved here (a configuration that does not
    /// resolve throws, as loading it would).
    public func attachments(configuration: SmbvolConfiguration, logger: Logger) throws -> ShareAttachments {
        attachments(for: try ShareCatalog(configuration: configuration), connectionInfoShares: [], logger: logger)
    }
}
