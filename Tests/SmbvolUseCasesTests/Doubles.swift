import AttachmentLocks
import Foundation
import Logging
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolSystem
import SmbvolTestSupport
import SmbvolUseCases
import Synchronization

/// The mount layer as the attachment service sees it: records every call, keeps the fake
/// kernel state, never mounts anything.
final class RecordingMounter: ShareMounting, Sendable {
    struct State {
        var mounted: Set<String> = []
        var calls: [String] = []
    }
    let state = Mutex(State())
    /// Runs when a share gets mounted: what the server shows once it is.
    let onMount = Mutex<(@Sendable (Share) -> Void)?>(nil)

    func ensureMounted(_ share: Share, deadline: Deadline) throws -> Bool {
        let mountedNow = state.withLock { state in
            state.calls.append("mount \(share.name)")
            return state.mounted.insert(share.usablePath).inserted
        }
        if mountedNow, let hook = onMount.withLock({ $0 }) { hook(share) }
        return mountedNow
    }

    func unmount(_ share: Share, force: Bool, deadline: Deadline) throws -> Bool {
        state.withLock { state in
            state.calls.append("unmount \(share.name)")
            return state.mounted.remove(share.usablePath) != nil
        }
    }

    func isMounted(_ share: Share) throws -> Bool { state.withLock { $0.mounted.contains(share.usablePath) } }

    var calls: [String] { state.withLock { $0.calls } }
    var mounted: Set<String> { state.withLock { $0.mounted } }
}

/// Every cluster is the one scripted transport.
struct ScriptedClusters: ClusterClientMaking {
    let transport: ScriptedTransport

    func client(forCluster name: String?, deadline: Deadline, logger: Logger) throws -> QumuloClient {
        QumuloClient(
            transport: transport, login: ClusterLogin(accessToken: Secret("session-v1:test")), deadline: deadline,
            retryPolicy: RetryPolicy(maximumAttempts: 1), logger: logger)
    }
}

/// A temporary directory with a configuration, shares below it and a state directory.
final class UseCaseFixture {
    let root: String
    var stateDirectory: String { root + "/state" }
    var mountBase: String { root + "/mnt" }
    let mounter = RecordingMounter()
    let logger = Logger(label: "test")

    init() throws {
        root = try Self.temporaryDirectory()
        for directory in [stateDirectory, mountBase, mountBase + "/one", mountBase + "/two"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Two SMB shares (one, two) at fixed mount points; a cluster when `cluster` is true.
    func configuration(cluster: Bool, onClusterError: String = "fail") throws -> SmbvolConfiguration {
        var file = SmbvolConfigurationFile([
            "state_dir": .string(stateDirectory), "mount_base": .string(mountBase), "qemu_user": "root", "qemu_group": "root",
        ])
        file.policy["on_cluster_error"] = .string(onClusterError)
        file.share("one", ["export": "//srv/one", "mount_point": .string(mountBase + "/one"), "fs_path": "/one"])
        file.share("two", ["export": "//srv/two", "mount_point": .string(mountBase + "/two"), "fs_path": "/two"])
        if cluster { file.cluster("sim", ["host": "127.0.0.1", "port": 9]) }
        return try ConfigurationLoader().load(path: try file.write(in: root), requireFile: true)
    }

    func attachments(_ configuration: SmbvolConfiguration) throws -> ShareAttachments {
        let store = AttachmentLockStore(stateDirectory: stateDirectory)
        let catalog = try ShareCatalog(configuration: configuration)
        return ShareAttachments(
            configuration: configuration, catalog: catalog,
            service: ShareAttachmentService(store: store, mounter: mounter, knownShares: catalog.shares, logger: logger))
    }

    func locks() throws -> [AttachmentLock] { try AttachmentLockStore(stateDirectory: stateDirectory).load() }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "smbvol-usecases-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
