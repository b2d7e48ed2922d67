import DiskImages
import DomainXML
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
import Synchronization
import Testing

/// "Inspect → close → report" for one domain against a scripted cluster: what is closed, what
/// refuses, what is audited — the code that decides and closes, with nothing real but a
/// temporary directory standing in for the share.
@Suite("DomainHygiene: closes what is stale, refuses on live, keeps on migration, confirms every close")
struct DomainHygieneTests {
    /// A share `vms` (`local_path`: nothing is mounted) holding web01's image, and its configuration.
    final class Workspace {
        let root: String
        var share: String { root + "/share" }
        var image: String { share + "/web01.qcow2" }
        let logs = CapturingLogHandler()
        var logger: Logger {
            let logs = self.logs
            return Logger(label: "test") { _ in logs }
        }

        init() throws {
            root = NSTemporaryDirectory() + "smbvol-hygiene-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: image, contents: Data("QFI\u{fb}".utf8))
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        func configuration() throws -> SmbvolConfiguration {
            var file = SmbvolConfigurationFile([
                "state_dir": .string(root + "/state"), "mount_base": .string(root + "/mnt"), "host_id": "host-a",
                "local_addresses": ["10.0.0.1"],
            ])
            file.policy["stale_after_seconds"] = 180
            file.share("vms", ["export": "//sim/vms", "fs_path": "/vms", "local_path": .string(share)])
            return try ConfigurationLoader().load(path: try file.write(in: root), requireFile: true)
        }

        /// The domain hygiene for web01, its transport scripted by `cluster`, the kernel's view fixed.
        func hygiene(_ cluster: HygieneCluster, openers: [LocalFileOpener] = []) throws -> (DomainHygiene, ScriptedTransport) {
            let configuration = try configuration()
            let transport = ScriptedTransport { request in cluster.respond(request) }
            let logger = self.logger
            let hygiene = DomainHygiene(
                configuration: configuration, shares: try ShareCatalog(configuration: configuration), attachmentRecords: [],
                localAddresses: ["10.0.0.1"], logger: logger
            ) { _ in
                QumuloClient(
                    transport: transport, login: ClusterLogin(accessToken: Secret("session-v1:test")), retryPolicy: .never, logger: logger)
            }
            hygiene.localOpeners = LocalImageOpeners(finder: FixedOpenFiles(openers: openers))
            return (hygiene, transport)
        }

        func located() throws -> (DomainDefinition, DomainImages) {
            let domain = try DomainXMLParser().parse(TestDomainXML(image: image).xml)
            let images = try DiskImageLocator(catalog: try ShareCatalog(configuration: try configuration())).locate(domain)
            return (domain, images)
        }
    }

    /// Records every takeover the executor reports.
    final class RecordedTakeovers: TakeoverRecording, Sendable {
        let closed = Mutex<[[String]]>([])
        let claims = Mutex<Int>(0)
        func recordTakeover(_ handles: ClosedHandles) { closed.withLock { $0.append(handles.closedLocations) } }
        func recordClaimTakeover(_ taken: ClaimTakeover) { claims.withLock { $0 += 1 } }
    }

    func startWeb01(_ workspace: Workspace, _ cluster: HygieneCluster, operation: HygieneOperation = .start, openers: [LocalFileOpener] = [])
        throws -> (inspection: DomainInspection, outcome: HygieneOutcome, transport: ScriptedTransport, takeovers: [[String]])
    {
        let (hygiene, transport) = try workspace.hygiene(cluster, openers: openers)
        let takeovers = RecordedTakeovers()
        hygiene.takeoverRecording = takeovers
        let (domain, images) = try workspace.located()
        let inspection = hygiene.inspect(domain, images: images, operation: operation)
        let outcome = hygiene.execute(inspection)
        return (inspection, outcome, transport, takeovers.closed.withLock { $0 })
    }

    static func proceeded(_ outcome: HygieneOutcome) -> (closed: [String], notClosed: [(location: String, reason: String)])? {
        if case .proceed(let closed, let notClosed) = outcome { return (closed, notClosed) }
        return nil
    }

    @Test("a holder with no session left: its handles are closed, confirmed by re-listing only this file, audited, recorded as a takeover")
    func closesStale() throws {
        let workspace = try Workspace()
        let cluster = HygieneCluster(handles: ["1.2.3", "1.2.4"])
        let run = try startWeb01(workspace, cluster)
        #expect(run.inspection.verdict == .proceed)
        #expect(run.inspection.images.first?.decisions?.locationsToClose == ["1.2.3", "1.2.4"])
        let result = try #require(Self.proceeded(run.outcome), "\(run.outcome)")
        #expect(result.closed == ["1.2.3", "1.2.4"])
        #expect(result.notClosed.isEmpty)
        #expect(cluster.closeBatches == [["1.2.3", "1.2.4"]])
        // The re-list after the close asks for this file's handles only, never the whole cluster.
        let closeIndex = try #require(run.transport.requestLines.firstIndex { $0.hasPrefix("POST /v1/smb/files/close") })
        let relists = run.transport.requestLines[(closeIndex + 1)...].filter { $0.hasPrefix("GET /v1/smb/files/") }
        #expect(relists.count == 1 && relists.allSatisfy { $0.contains("file_number=42") }, "\(run.transport.requestLines)")
        #expect(run.takeovers == [["1.2.3", "1.2.4"]])

        let closes = workspace.logs.auditEvents("close")
        #expect(closes.map { $0.metadata["location"] } == ["1.2.3", "1.2.4"])
        for event in closes {
            #expect(event.metadata["domain"] == "web01")
            #expect(event.metadata["cluster_path"] == "/vms/web01.qcow2")
            #expect(event.metadata["client_address"] == "10.0.0.9")
            #expect(event.metadata["decision"] == "close")
            #expect(event.metadata["outcome"] == "closed")
            #expect(event.metadata["file_number"] == "42")
        }
        #expect(workspace.logs.auditEvents("refuse").isEmpty)
    }

    @Test("a live holder (session idle 5 s) refuses the start: nothing is closed, the refusal is audited and names the holder")
    func refusesOnLive() throws {
        let workspace = try Workspace()
        let cluster = HygieneCluster(handles: ["1.2.3"], sessionIdleSeconds: 5)
        let run = try startWeb01(workspace, cluster)
        #expect(run.inspection.verdict == .refuse)
        guard case .refuse(let refusal) = run.outcome else {
            Issue.record("expected a refusal, got \(run.outcome)")
            return
        }
        #expect(refusal.domainName == "web01" && refusal.clusterNotAsked == nil)
        #expect(refusal.holders.map(\.clusterPath) == ["/vms/web01.qcow2"], "\(refusal.holders)")
        guard case .liveHandle(let decision) = refusal.holders.first?.evidence else {
            Issue.record("expected a live handle, got \(refusal.holders)")
            return
        }
        #expect(decision.handle.location == "1.2.3" && decision.clientAddresses == ["10.0.0.9"], "\(decision)")
        #expect(cluster.closeBatches.isEmpty)
        #expect(!run.transport.requestLines.contains { $0.hasPrefix("POST /v1/smb/files/close") })
        #expect(run.takeovers.isEmpty)
        let refusals = workspace.logs.auditEvents("refuse")
        #expect(refusals.map { $0.metadata["location"] } == ["1.2.3"])
        #expect(refusals.first?.metadata["client_address"] == "10.0.0.9")
        #expect(workspace.logs.auditEvents("close").isEmpty)
    }

    @Test("an incoming migration keeps the live source's handle: proceed, nothing closed, nothing refused")
    func migrationKeeps() throws {
        let workspace = try Workspace()
        let cluster = HygieneCluster(handles: ["1.2.3"], sessionIdleSeconds: 5)
        let run = try startWeb01(workspace, cluster, operation: .migration)
        #expect(run.inspection.verdict == .proceed)
        #expect(run.inspection.images.first?.decisions?.decisions.map(\.action) == [.keep])
        let result = try #require(Self.proceeded(run.outcome), "\(run.outcome)")
        #expect(result.closed.isEmpty && result.notClosed.isEmpty)
        #expect(cluster.closeBatches.isEmpty)
        #expect(workspace.logs.auditEvents("close").isEmpty && workspace.logs.auditEvents("refuse").isEmpty)
    }

    @Test("250 stale handles are closed in batches of the client's batch size, then confirmed once")
    func closesInBatches() throws {
        let workspace = try Workspace()
        let locations = (1...250).map { "1.2.\($0)" }
        let cluster = HygieneCluster(handles: locations)
        let run = try startWeb01(workspace, cluster)
        let result = try #require(Self.proceeded(run.outcome), "\(run.outcome)")
        #expect(result.closed.count == 250)
        let batch = QumuloClient.closeBatchSize
        #expect(cluster.closeBatches.map(\.count) == [batch, batch, 250 - 2 * batch])
        #expect(cluster.closeBatches.flatMap { $0 } == locations)
        #expect(workspace.logs.auditEvents("close").count == 250)
    }

    @Test("a per-item close error is not a close: reported as not closed, audited as close-failed, left out of the takeover")
    func perItemErrorIsNotAClose() throws {
        let workspace = try Workspace()
        let cluster = HygieneCluster(handles: ["1.2.3", "1.2.4"])
        cluster.update { $0.closeErrors["1.2.4"] = "handle busy" }
        let run = try startWeb01(workspace, cluster)
        let result = try #require(Self.proceeded(run.outcome), "\(run.outcome)")
        #expect(result.closed == ["1.2.3"])
        #expect(result.notClosed.map { $0.location } == ["1.2.4"])
        #expect(result.notClosed.first?.reason.contains("handle busy") == true)
        #expect(run.takeovers == [["1.2.3"]])
        #expect(workspace.logs.auditEvents("close").map { $0.metadata["location"] } == ["1.2.3"])
        let failed = workspace.logs.auditEvents("close-failed")
        #expect(failed.map { $0.metadata["location"] } == ["1.2.4"])
        #expect(failed.first?.level == .warning)
        #expect(failed.first?.metadata["outcome"]?.contains("handle busy") == true)
    }

    @Test("a close the cluster answers as done but still lists is not a close (the re-list check)")
    func relistCheck() throws {
        let workspace = try Workspace()
        let cluster = HygieneCluster(handles: ["1.2.3", "1.2.4"])
        cluster.update { $0.stillListedAfterClose = ["1.2.3"] }
        let run = try startWeb01(workspace, cluster)
        let result = try #require(Self.proceeded(run.outcome), "\(run.outcome)")
        #expect(result.closed == ["1.2.4"])
        #expect(result.notClosed.map { $0.location } == ["1.2.3"])
        #expect(result.notClosed.first?.reason.contains("still listed") == true, "\(result.notClosed)")
        #expect(run.takeovers == [["1.2.4"]])
        #expect(workspace.logs.auditEvents("close-failed").map { $0.metadata["location"] } == ["1.2.3"])
    }

    @Test("a cluster that cannot be asked ends the inspection, maps to on_cluster_error, and closes nothing")
    func clusterUnavailable() throws {
        let workspace = try Workspace()
        let configuration = try workspace.configuration()
        let (domain, images) = try workspace.located()
        let failing = DomainHygiene(
            configuration: configuration, shares: try ShareCatalog(configuration: configuration), attachmentRecords: [],
            localAddresses: ["10.0.0.1"], logger: workspace.logger
        ) { _ in
            QumuloClient(
                transport: ScriptedTransport { _ in qumuloError(503, "busy", "busy") },
                login: ClusterLogin(accessToken: Secret("session-v1:test")), retryPolicy: .never, logger: workspace.logger)
        }
        let inspection = failing.inspect(domain, images: images, operation: .start)
        #expect(inspection.failure != nil)
        #expect(inspection.closePlan.isEmpty)
        guard case .clusterUnavailable(_, let proceedAnyway) = failing.execute(inspection) else {
            Issue.record("expected clusterUnavailable")
            return
        }
        #expect(proceedAnyway == (configuration.policy.onClusterError == .continue))
        #expect(workspace.logs.auditEvents("close").isEmpty)
    }
}
