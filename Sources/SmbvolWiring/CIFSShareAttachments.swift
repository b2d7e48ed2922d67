import AttachmentLocks
import Logging
import SMBMounts
import SmbvolConfig
import SmbvolShares
import SmbvolSystem
import SmbvolUseCases

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

/// The production attach side: `mount.cifs` with the configuration's mount settings and the
/// libvirt-qemu account, the flock-protected lock store in `state_dir`. The hook and the
/// operator commands use this.
public struct CIFSShareAttachments: ShareAttachmentsMaking {
    public let configuration: SmbvolConfiguration

    public init(configuration: SmbvolConfiguration) { self.configuration = configuration }

    public func attachments(for catalog: ShareCatalog, connectionInfoShares: [Share], logger: Logger) -> ShareAttachments {
        // Connection-info shares first: they carry the credentials (a hot-attach may also name
        // the share in the configuration the hygiene step reads).
        let shares = connectionInfoShares + catalog.shares
        let mounter = ShareMounter(
            settings: MountSettings(configuration: configuration),
            accountResolver: QemuAccountResolver(configuration: configuration), logger: logger)
        // A lock record is matched back to the first share at its directory.
        var seen: Set<String> = []
        let known = shares.filter { seen.insert($0.usablePath).inserted }
        let store = AttachmentLockStore(stateDirectory: configuration.stateDirectory, stageObserver: Self.testCrashObserver())
        let mountTimeout = configuration.mountTimeoutSeconds
        let service = ShareAttachmentService(
            store: store, mounter: MountedShareAdapter(mounter: mounter), knownShares: known,
            shareLockTimeout: .seconds(max(60, mountTimeout * 2 + 10)), logger: logger)
        return ShareAttachments(configuration: configuration, catalog: catalog, connectionInfoShares: connectionInfoShares, service: service)
    }

    /// The configured shares' attach side (operator commands that need nothing else).
    public static func attachments(configuration: SmbvolConfiguration, logger: Logger) throws -> ShareAttachments {
        try CIFSShareAttachments(configuration: configuration).attachments(configuration: configuration, logger: logger)
    }

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
