import Foundation
import HandleEvidence
import StaleHandleCleanup
import LockHygiene
import Logging
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolSystem
import SmbvolTestSupport
import Testing

/// Evidence → decisions for one image (the step a start and `handles close --stale-only` share),
/// against a scripted cluster and a fixed kernel view.
@Suite("ImageHygiene: one image's evidence and decisions")
struct ImageHygieneTests {
    func hygiene(_ cluster: HygieneCluster, openers: [LocalFileOpener] = [], root: String) throws -> (ImageHygiene, ScriptedTransport) {
        var file = SmbvolConfigurationFile(["state_dir": .string(root + "/state"), "mount_base": .string(root + "/mnt")])
        file.share("vms", ["export": "//sim/vms", "fs_path": "/vms", "local_path": .string(root + "/share")])
        let configuration = try ConfigurationLoader().parse(file.rendered, file: "smbvol.toml")
        let transport = ScriptedTransport { request in cluster.respond(request) }
        let client = QumuloClient(
            transport: transport, login: ClusterLogin(accessToken: Secret("session-v1:test")), retryPolicy: .never,
            logger: Logger(label: "test"))
        let hygiene = ImageHygiene(
            client: client, shares: try ShareCatalog(configuration: configuration),
            shareRoots: ShareRootResolver(stateDirectory: root + "/state"), records: AttachmentRecordIndex(records: []),
            localAddresses: ["10.0.0.1"], protectedClients: [], localOpeners: LocalImageOpeners(finder: FixedOpenFiles(openers: openers)),
            localHostID: { "host-a" }, logger: nil)
        return (hygiene, transport)
    }

    func decide(_ hygiene: ImageHygiene, root: String, operation: HygieneOperation = .start, access: DiskAccess = .exclusive) throws
        -> (gathered: GatheredEvidence, decisions: ImageDecisions)
    {
        try hygiene.decide(
            clusterPath: "/vms/web01.qcow2", cluster: nil, excludingDomain: "11111111-2222-3333-4444-555555555555", access: access,
            decider: LockHygieneDecider(policy: HygienePolicy(operation: operation, staleAfterSeconds: 180)),
            location: { (root + "/share", "web01.qcow2") })
    }

    func scratch() throws -> String {
        let root = NSTemporaryDirectory() + "smbvol-image-hygiene-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root + "/share", withIntermediateDirectories: true)
        return root
    }

    @Test("no session for the holder: every handle is stale and to be closed; ImageHygiene itself closes nothing")
    func staleDecided() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (hygiene, transport) = try hygiene(HygieneCluster(handles: ["1.2.3", "1.2.4"]), root: root)
        let result = try decide(hygiene, root: root)
        #expect(result.gathered.fileNumber == "42")
        #expect(result.decisions.verdict == .proceed)
        #expect(result.decisions.locationsToClose == ["1.2.3", "1.2.4"])
        #expect(result.decisions.decisions.allSatisfy { $0.classification == .stale })
        #expect(!transport.requestLines.contains { $0.hasPrefix("POST /v1/smb/files/close") })
    }

    @Test("a session idle less than stale_after: live, the start refuses")
    func liveRefuses() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (hygiene, _) = try hygiene(HygieneCluster(handles: ["1.2.3"], sessionIdleSeconds: 5), root: root)
        let result = try decide(hygiene, root: root)
        #expect(result.decisions.verdict == .refuse)
        #expect(result.decisions.decisions.map(\.action) == [.refuse])
        #expect(result.decisions.locationsToClose.isEmpty)
    }

    @Test("a session idle past stale_after: stale")
    func idleSessionIsStale() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (hygiene, _) = try hygiene(HygieneCluster(handles: ["1.2.3"], sessionIdleSeconds: 600), root: root)
        #expect(try decide(hygiene, root: root).decisions.locationsToClose == ["1.2.3"])
    }

    @Test("before a close, the kernel is asked: a local process holding the image turns the close into a refusal")
    func localOpenerRefuses() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (hygiene, _) = try hygiene(
            HygieneCluster(handles: ["1.2.3"]), openers: [LocalFileOpener(pid: 4242, command: "qemu-system-x86_64", guestName: "web01")],
            root: root)
        let result = try decide(hygiene, root: root)
        #expect(!result.gathered.evidence.localOpeners.isEmpty)
        #expect(result.decisions.locationsToClose.isEmpty)
        #expect(result.decisions.verdict == .refuse)
    }

    @Test("an incoming migration keeps a live holder's handle")
    func migrationKeeps() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (hygiene, _) = try hygiene(HygieneCluster(handles: ["1.2.3"], sessionIdleSeconds: 5), root: root)
        let result = try decide(hygiene, root: root, operation: .migration)
        #expect(result.decisions.verdict == .proceed)
        #expect(result.decisions.decisions.map(\.action) == [.keep])
    }

    @Test("no handle on the file: nothing to decide, no lock grants or sessions asked")
    func noHandles() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (hygiene, transport) = try hygiene(HygieneCluster(handles: []), root: root)
        let result = try decide(hygiene, root: root)
        #expect(result.decisions.decisions.isEmpty)
        #expect(result.decisions.verdict == .proceed)
        #expect(!transport.requestLines.contains { $0.contains("/v1/smb/sessions/") })
    }
}
