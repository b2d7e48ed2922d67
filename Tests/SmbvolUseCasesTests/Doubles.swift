import AttachmentLocks
import Foundation
import Logging
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolSystem
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

    func unmount(_ share: ShareTarget, force: Bool, deadline: Deadline) throws -> Bool {
        state.withLock { state in
            state.calls.append("unmount \(share.name)")
            return state.mounted.remove(share.mountPoint) != nil
        }
    }

    func isMounted(_ share: ShareTarget) throws -> Bool { state.withLock { $0.mounted.contains(share.mountPoint) } }

    var calls: [String] { state.withLock { $0.calls } }
    var mounted: Set<String> { state.withLock { $0.mounted } }
}

/// Answers cluster requests from a closure, recording them; never opens a socket.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    // @unchecked: one test drives it from one thread; the Mutex guards the record anyway.
    typealias Responder = @Sendable (HTTPRequest) throws(TransportFailure) -> HTTPResponse
    private let responder: Responder
    private let sent = Mutex<[String]>([])

    init(_ responder: @escaping Responder) { self.responder = responder }

    var requestCount: Int { sent.withLock { $0.count } }
    var paths: [String] { sent.withLock { $0 } }

    func send(_ request: HTTPRequest, timeout: Duration) throws(TransportFailure) -> HTTPResponse {
        sent.withLock { $0.append("\(request.method.rawValue) \(request.path)") }
        return try responder(request)
    }
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

func json(_ text: String, status: Int = 200) -> HTTPResponse { HTTPResponse(status: status, body: Array(text.utf8)) }

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
        var text = """
            state_dir = "\(stateDirectory)"
            mount_base = "\(mountBase)"
            qemu_user = "root"
            qemu_group = "root"

            [policy]
            on_cluster_error = "\(onClusterError)"

            [share.one]
            export = "//srv/one"
            mount_point = "\(mountBase)/one"
            fs_path = "/one"

            [share.two]
            export = "//srv/two"
            mount_point = "\(mountBase)/two"
            fs_path = "/two"

            """
        if cluster {
            text += """

                [cluster.sim]
                host = "127.0.0.1"
                port = 9
                """
        }
        let path = root + "/smbvol.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try ConfigurationLoader().load(path: path, requireFile: true)
    }

    func attachments(_ configuration: SmbvolConfiguration) throws -> ShareAttachmentWiring {
        let store = AttachmentLockStore(stateDirectory: stateDirectory)
        let catalog = try ShareCatalog(configuration: configuration)
        return ShareAttachmentWiring(
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
