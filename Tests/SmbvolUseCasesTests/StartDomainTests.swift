import AttachmentLocks
import DiskImages
import DomainXML
import Foundation
import HandleEvidence
import StaleHandleCleanup
import HostHeartbeat
import LockHygiene
import Logging
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolSystem
import SmbvolTestSupport
import SmbvolUseCases
import Synchronization
import Testing

@Suite("The start pipeline (locate once → mount → lock → evidence → decide → act → give back)")
struct StartDomainTests {
    static let uuid = DomainUUID("6f1c1a38-0d9e-4c1e-9a8e-2f0c7c0a1b01")!
    static let otherUUID = DomainUUID("6f1c1a38-0d9e-4c1e-9a8e-2f0c7c0a1b02")!

    func twoDiskDomain(_ fixture: UseCaseFixture, uuid: DomainUUID = Self.uuid, name: String = "web01") -> DomainDefinition {
        DomainDefinition(
            name: name, uuid: uuid.value,
            disks: [
                DomainDisk(target: "vda", sourceFile: fixture.mountBase + "/one/\(name)/disk0.qcow2"),
                DomainDisk(target: "vdb", sourceFile: fixture.mountBase + "/two/\(name)/disk1.qcow2"),
                DomainDisk(target: "vdc", sourceFile: "/var/lib/libvirt/images/local.qcow2"),
            ])
    }

    func start(
        _ fixture: UseCaseFixture, _ configuration: SmbvolConfiguration, domain: DomainDefinition, uuid: DomainUUID = Self.uuid,
        transport: ScriptedTransport = ScriptedTransport { _ throws(TransportFailure) in throw .connection("refused") }
    ) throws -> StartDomain {
        let run = DomainRun(
            configuration: configuration, shares: try ShareCatalog(configuration: configuration), domain: domain, uuid: uuid,
            deadlines: RunDeadlines(configuration: configuration), logger: fixture.logger)
        return StartDomain(
            run: run, attachments: try fixture.attachments(configuration), clusters: ScriptedClusters(transport: transport),
            localAddresses: { ["127.0.0.1"] })
    }

    @Test("without a cluster: both shares mounted once, one lock per disk, the local disk left alone, no request")
    func proceedsWithoutCluster() throws {
        let fixture = try UseCaseFixture()
        let configuration = try fixture.configuration(cluster: false)
        let transport = ScriptedTransport { _ throws(TransportFailure) in throw .connection("must not be asked") }
        let outcome = try start(fixture, configuration, domain: twoDiskDomain(fixture), transport: transport)(migrating: false)
        guard case .attached(let receipt) = outcome else {
            Issue.record("expected attached, got \(outcome)")
            return
        }
        #expect(fixture.mounter.calls == ["mount one", "mount two"])
        #expect(receipt.locks.map(\.disk).sorted() == ["vda", "vdb"])
        #expect(try fixture.locks().map(\.disk).sorted() == ["vda", "vdb"])
        // The store as the run left it travels with the receipt: hygiene reads no second copy.
        #expect(receipt.storeRecords.map(\.id).sorted() == (try fixture.locks()).map(\.id).sorted())
        #expect(transport.requestCount == 0)
    }

    @Test("no disk on a share: nothing to do, nothing mounted, no lock")
    func nothingToDo() throws {
        let fixture = try UseCaseFixture()
        let configuration = try fixture.configuration(cluster: true)
        let domain = DomainDefinition(name: "db", uuid: Self.uuid.value, disks: [DomainDisk(target: "vda", sourceFile: "/srv/local/db.qcow2")])
        let outcome = try start(fixture, configuration, domain: domain)(migrating: false)
        guard case .nothingToDo = outcome else {
            Issue.record("expected nothingToDo, got \(outcome)")
            return
        }
        #expect(fixture.mounter.calls.isEmpty)
        #expect(try fixture.locks().isEmpty)
    }

    @Test("a failure after mounting gives back exactly what the run took, across every disk — another domain's lock and mount stay")
    func failureGivesBackExactlyWhatWasTaken() throws {
        let fixture = try UseCaseFixture()
        let configuration = try fixture.configuration(cluster: true, onClusterError: "fail")
        // Another domain already holds share one (its mount was made by its own start).
        let other = try start(
            fixture, try fixture.configuration(cluster: false),
            domain: DomainDefinition(
                name: "web02", uuid: Self.otherUUID.value,
                disks: [DomainDisk(target: "vda", sourceFile: fixture.mountBase + "/one/web02/disk0.qcow2")]),
            uuid: Self.otherUUID)(migrating: false)
        guard case .attached = other else {
            Issue.record("setup: \(other)")
            return
        }
        let before = try fixture.locks()
        // The cluster cannot be asked, and on_cluster_error = fail.
        let outcome = try start(fixture, configuration, domain: twoDiskDomain(fixture))(migrating: false)
        guard case .failed(let failure) = outcome, case .clusterUnavailable = failure.reason else {
            Issue.record("expected failed (cluster unavailable, on_cluster_error = fail), got \(outcome)")
            return
        }
        #expect(failure.operation == .start && failure.domainName == "web01")
        #expect(try fixture.locks() == before, "only this run's locks are gone")
        #expect(fixture.mounter.mounted == [fixture.mountBase + "/one"], "share two (mounted by this run) is given back; one stays for web02")
        #expect(fixture.mounter.calls == ["mount one", "mount one", "mount two", "unmount two"])
    }

    @Test("a refused start names its holder, typed: another host's fresh claim on the image (no cluster configured); the run keeps nothing")
    func refusalNamesTheHolder() throws {
        let fixture = try UseCaseFixture()
        let configuration = try fixture.configuration(cluster: false)
        let claim = HolderClaim(
            hostID: "host-b", hostname: "kvm-b", addresses: ["203.0.113.2"], domainName: "web01", domainUUID: Self.otherUUID.value,
            imagePath: "web01/disk0.qcow2", writtenAt: Date().timeIntervalSince1970, intervalSeconds: 10)
        _ = try HolderClaimStore().write(claim, shareRoot: fixture.mountBase + "/one")
        let outcome = try start(fixture, configuration, domain: twoDiskDomain(fixture))(migrating: false)
        guard case .refused(let refusal) = outcome else {
            Issue.record("expected refused, got \(outcome)")
            return
        }
        #expect(refusal.domainName == "web01")
        guard case .noneConfigured = refusal.clusterNotAsked else {
            Issue.record("expected a refusal without a cluster, got \(String(describing: refusal.clusterNotAsked))")
            return
        }
        #expect(refusal.holders.map(\.image) == [fixture.mountBase + "/one/web01/disk0.qcow2"], "\(refusal.holders)")
        guard case .freshClaim(let judged) = refusal.holders.first?.evidence else {
            Issue.record("expected a fresh claim, got \(refusal.holders)")
            return
        }
        #expect(judged.fact?.hostID == "host-b" && judged.fact?.hostname == "kvm-b" && judged.fact?.addresses == ["203.0.113.2"])
        #expect(try fixture.locks().isEmpty, "what the run took is given back")
        #expect(fixture.mounter.mounted.isEmpty)
    }

    @Test("on_cluster_error = continue: the start proceeds with its mounts and locks when the cluster cannot be asked")
    func clusterUnavailableContinue() throws {
        let fixture = try UseCaseFixture()
        let configuration = try fixture.configuration(cluster: true, onClusterError: "continue")
        let outcome = try start(fixture, configuration, domain: twoDiskDomain(fixture))(migrating: false)
        guard case .attached = outcome else {
            Issue.record("expected attached, got \(outcome)")
            return
        }
        #expect(try fixture.locks().count == 2)
    }

    @Test("an image that a symlink on the mounted share sends outside it is refused after the mount, and the mount is given back")
    func symlinkEscapeAfterMount() throws {
        let fixture = try UseCaseFixture()
        let configuration = try fixture.configuration(cluster: false)
        // What the server shows once mounted: web01 is a symlink out of the share.
        try FileManager.default.createDirectory(atPath: fixture.root + "/elsewhere", withIntermediateDirectories: true)
        let elsewhere = fixture.root + "/elsewhere"
        let link = fixture.mountBase + "/two/web01"
        let locator = DiskImageLocator(catalog: try ShareCatalog(configuration: configuration))
        let located = try locator.locate(twoDiskDomain(fixture))
        #expect(located.images.map(\.target) == ["vda", "vdb"])
        #expect(located.unmanagedDisks.map(\.target) == ["vdc"])
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: elsewhere)
        #expect(throws: ImageLocationError.self) { _ = try locator.resolvingInsideShares(located.images) }
        try FileManager.default.removeItem(atPath: link)
        // Through the pipeline: the link appears only once share two is mounted; the check on
        // the mounted share finds it and the run keeps nothing.
        fixture.mounter.onMount.withLock { hook in
            hook = { share in
                if share.name == "two" { try? FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: elsewhere) }
            }
        }
        let outcome = try start(fixture, configuration, domain: twoDiskDomain(fixture))(migrating: false)
        guard case .failed(let failure) = outcome, case .other(let error) = failure.reason else {
            Issue.record("expected failed, got \(outcome)")
            return
        }
        #expect("\(error)".contains("outside share two"), "\(error)")
        #expect(fixture.mounter.calls == ["mount one", "mount two", "unmount one", "unmount two"] || fixture.mounter.calls == ["mount one", "mount two", "unmount two", "unmount one"])
        #expect(try fixture.locks().isEmpty)
        #expect(fixture.mounter.mounted.isEmpty)
    }

    @Test("release drops the domain's locks and unmounts; reconnect restores them without asking any cluster")
    func releaseAndReconnect() throws {
        let fixture = try UseCaseFixture()
        let configuration = try fixture.configuration(cluster: true, onClusterError: "continue")
        let shares = try ShareCatalog(configuration: configuration)
        let run = DomainRun(
            configuration: configuration, shares: shares, domain: twoDiskDomain(fixture), uuid: Self.uuid,
            deadlines: RunDeadlines(configuration: configuration), logger: fixture.logger)
        let marks = IncomingMigrationMarks(stateDirectory: fixture.stateDirectory)
        ReconnectDomain(run: run, attachments: try fixture.attachments(configuration))()
        #expect(try fixture.locks().count == 2)
        #expect(fixture.mounter.mounted.count == 2)
        try marks.mark(Self.uuid)
        let report = try #require(ReleaseDomain(run: run, attachments: try fixture.attachments(configuration), marks: marks)())
        #expect(report.removedLocks.count == 2)
        #expect(try fixture.locks().isEmpty)
        #expect(fixture.mounter.mounted.isEmpty)
        #expect(!marks.isMarked(Self.uuid), "release ends an incoming-migration mark")
    }

    @Test("detach drops the disk's locks, the backing file's on another share too, and refuses an unknown disk")
    func detach() throws {
        let fixture = try UseCaseFixture()
        let configuration = try fixture.configuration(cluster: false)
        _ = try start(fixture, configuration, domain: twoDiskDomain(fixture))(migrating: false)
        let attachments = try fixture.attachments(configuration)
        #expect(throws: Detach.NoSuchLock.self) { try Detach(attachments: attachments)(uuid: Self.uuid, disk: "vdz") }
        let report = try Detach(attachments: attachments)(uuid: Self.uuid, disk: "vda")
        #expect(report.removedLocks.map(\.disk) == ["vda"])
        #expect(try fixture.locks().map(\.disk) == ["vdb"])
        #expect(fixture.mounter.mounted == [fixture.mountBase + "/two"])
    }
}
