import AttachmentLocks
import Logging
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolSystem

#if canImport(Glibc)
import Glibc
#endif

/// Connects SMBMounts' `ShareMounter` to AttachmentLocks' `ShareAttachmentService` (the two
/// libraries do not depend on each other). Every call carries its `Share` when it is known.
struct MountedShareAdapter: ShareMounting {
    let mounter: ShareMounter

    func ensureMounted(_ share: Share, deadline: Deadline) throws -> Bool {
        try mounter.ensureMounted(share, deadline: deadline).mountedNow
    }

    func unmount(_ share: Share, force: Bool, deadline: Deadline) throws -> Bool {
        // Only a mount recognised as the share's: its export when known (configured or from
        // connection info), else one smbvol would have made at a directory of this name.
        do {
            return try mounter.unmount(
                mountPoint: share.usablePath, share: share.name, export: share.export, force: force, deadline: deadline)
        } catch let error as MountCommandError {
            if case .notOurMount = error { throw AttachmentError.notOurMount(message: error.description) }
            throw error
        }
    }

    func isMounted(_ share: Share) throws -> Bool {
        // A share known only from lock records: anything mounted at its directory counts.
        if share.isKnownOnlyFromRecords { return try mounter.hasMount(at: share.usablePath) }
        return try mounter.isMounted(share)
    }
}

/// Everything the attach side needs, built from the configuration: the configured shares (plus
/// any from connection info), the mounter and the attachment service. The hook and the
/// operator commands use this.
public struct ShareAttachmentWiring: Sendable {
    public let configuration: SmbvolConfiguration
    /// The configured shares (resolved once, at load).
    public let catalog: ShareCatalog
    /// Shares from connection info (a hot-attach's): they bring their credentials.
    public let connectionInfoShares: [Share]
    /// Connection-info shares first, then the configured ones.
    public let shares: [Share]
    public let service: ShareAttachmentService

    /// Parts already built (tests: a recording mounter, a store in a temporary directory).
    public init(configuration: SmbvolConfiguration, catalog: ShareCatalog, connectionInfoShares: [Share] = [], service: ShareAttachmentService) {
        self.configuration = configuration
        self.catalog = catalog
        self.connectionInfoShares = connectionInfoShares
        shares = connectionInfoShares + catalog.shares
        self.service = service
    }

    /// For commands that need the shares of the configuration and nothing else of it.
    public init(configuration: SmbvolConfiguration, logger: Logger) throws {
        self.init(configuration: configuration, catalog: try ShareCatalog(configuration: configuration), logger: logger)
    }

    public init(configuration: SmbvolConfiguration, catalog: ShareCatalog, logger: Logger, connectionInfoShares: [Share] = []) {
        self.configuration = configuration
        self.catalog = catalog
        // Connection-info shares first: they carry the credentials (a hot-attach may also name
        // the share in the configuration the hygiene step reads).
        self.connectionInfoShares = connectionInfoShares
        shares = connectionInfoShares + catalog.shares
        let mounter = ShareMounter(
            settings: MountSettings(configuration: configuration),
            accountResolver: QemuAccountResolver(configuration: configuration), logger: logger)
        // A lock record is matched back to the first share at its directory.
        var seen: Set<String> = []
        let known = shares.filter { seen.insert($0.usablePath).inserted }
        let store = AttachmentLockStore(stateDirectory: configuration.stateDirectory, stageObserver: Self.testCrashObserver())
        let mountTimeout = configuration.mountTimeoutSeconds
        service = ShareAttachmentService(
            store: store, mounter: MountedShareAdapter(mounter: mounter), knownShares: known,
            shareLockTimeout: .seconds(max(60, mountTimeout * 2 + 10)), logger: logger)
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

    /// Debug builds only: `SMBVOL_TEST_CRASH_POINT=holding-lock|after-temp-write|after-rename`
    /// kills the process (SIGKILL) at that point of a store change, for the crash tests.
    /// Release builds compile this out, so production ignores the variable.
    public static func testCrashObserver() -> (@Sendable (AttachmentLockStore.Stage) -> Void)? {
        #if DEBUG
        guard let value = getenv("SMBVOL_TEST_CRASH_POINT").map({ String(cString: $0) }),
            let wanted = AttachmentLockStore.Stage(rawValue: value)
        else { return nil }
        return { stage in if stage == wanted { kill(getpid(), SIGKILL) } }
        #else
        return nil
        #endif
    }
}
