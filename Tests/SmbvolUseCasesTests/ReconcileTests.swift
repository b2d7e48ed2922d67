import AttachmentLocks
import Foundation
import LibvirtDomains
import SmbvolLogging
import SmbvolShares
import SmbvolSystem
import SmbvolUseCases
import Synchronization
import Testing

/// libvirt as reconcile sees it: a fixed answer, and optionally something that happens on the
/// host while libvirt is being asked (a domain starting and its hook recording a lock).
final class LibvirtDouble: LibvirtDomainListing {
    let domains: [LibvirtDomainSummary]
    let duringQuery: (() throws -> Void)?
    private(set) var queries = 0

    init(_ domains: [LibvirtDomainSummary], duringQuery: (() throws -> Void)? = nil) {
        self.domains = domains
        self.duringQuery = duringQuery
    }

    func listDomains() throws -> [LibvirtDomainSummary] {
        queries += 1
        try duringQuery?()
        return domains
    }
}

/// Reconcile must never drop the lock of a domain whose qemu may hold its
/// images — decided by "active" (has an id), never by state, and never for a lock recorded after
/// libvirt was asked.
@Suite("Reconcile: active domains and locks recorded after the libvirt query")
struct ReconcileTests {
    static let crashed = "aaaaaaaa-0000-4000-8000-000000000001"
    static let gone = "aaaaaaaa-0000-4000-8000-000000000002"
    static let starting = "aaaaaaaa-0000-4000-8000-000000000003"
    /// Long before any test runs: surely before the query.
    static let old = "2020-01-01T00:00:00Z"

    func hookLock(_ uuid: String, disk: String = "vda", createdAt: String = Self.old, _ fixture: UseCaseFixture) -> AttachmentLock {
        AttachmentLock(
            id: String(uuid.suffix(12)) + disk + "00", share: "one", mountPoint: fixture.mountBase + "/one", domainUUID: uuid,
            domainName: "dom-" + uuid.suffix(1), disk: disk, image: fixture.mountBase + "/one/\(uuid.suffix(1)).qcow2",
            reason: AttachmentLock.diskReason(domainName: "dom-" + uuid.suffix(1), disk: disk), context: .hook, createdAt: createdAt)
    }

    func seed(_ fixture: UseCaseFixture, _ locks: [AttachmentLock]) throws {
        try AttachmentLockStore(stateDirectory: fixture.stateDirectory).update(deadline: .none) { $0 += locks }
    }

    func request(_ uuid: String, _ fixture: UseCaseFixture) -> DiskAttachmentRequest {
        DiskAttachmentRequest(
            domainUUID: uuid, domainName: "dom-" + uuid.suffix(1), disk: "vda", image: fixture.mountBase + "/one/\(uuid.suffix(1)).qcow2",
            share: Share(name: "one", export: try! SMBExport(parsing: "//srv/one"), mountPoint: fixture.mountBase + "/one", credentials: nil, options: []))
    }

    @Test("a crashed domain kept by on_crash=preserve (state crashed, still active) keeps its lock; an inactive one loses it")
    func crashedButActive() throws {
        let fixture = try UseCaseFixture()
        let attachments = try fixture.attachments(try fixture.configuration(cluster: false))
        try seed(fixture, [hookLock(Self.crashed, fixture), hookLock(Self.gone, fixture)])
        let libvirt = LibvirtDouble([
            LibvirtDomainSummary(name: "crashed", uuid: Self.crashed.uppercased(), state: .crashed, isActive: true),
            LibvirtDomainSummary(name: "gone", uuid: Self.gone, state: .shutoff, isActive: false),
        ])
        let report = try Reconcile(attachments: attachments)(domains: libvirt, dryRun: false)
        #expect(try fixture.locks().map(\.domainUUID) == [Self.crashed])
        #expect(report.steps.contains(.droppedLock(id: hookLock(Self.gone, fixture).id, reason: "domain dom-2 disk vda", domainUUID: Self.gone)))
        #expect(!report.steps.contains { if case .droppedLock(_, _, Self.crashed) = $0 { return true } else { return false } })
        #expect(libvirt.queries == 1)
    }

    @Test("a domain that starts while libvirt is being asked keeps the lock its hook records meanwhile")
    func lockCreatedAfterQuery() throws {
        let fixture = try UseCaseFixture()
        let attachments = try fixture.attachments(try fixture.configuration(cluster: false))
        try seed(fixture, [hookLock(Self.gone, fixture)])
        // libvirt answered before the start: it lists neither domain as active.
        let libvirt = LibvirtDouble([LibvirtDomainSummary(name: "gone", uuid: Self.gone, state: .shutoff, isActive: false)]) {
            _ = try attachments.service.attach([request(Self.starting, fixture)], deadline: .none)
        }
        let report = try Reconcile(attachments: attachments)(domains: libvirt, dryRun: false)
        let locks = try fixture.locks()
        #expect(locks.map(\.domainUUID) == [Self.starting], "\(locks)")
        #expect(fixture.mounter.mounted.contains(fixture.mountBase + "/one"), "the starting domain's share stays mounted")
        let newID = try #require(locks.first?.id)
        #expect(
            report.steps.contains {
                if case .keptLock(newID, _, Self.starting, let why) = $0 { return why.contains("recorded after libvirt was asked") }
                return false
            }, "\(report.steps)")
    }

    @Test("a stale lock that a start refreshes while libvirt is being asked is kept (recorded_at, not created_at, counts)")
    func lockRefreshedAfterQuery() throws {
        let fixture = try UseCaseFixture()
        let attachments = try fixture.attachments(try fixture.configuration(cluster: false))
        let stale = hookLock(Self.starting, fixture)
        try seed(fixture, [stale])
        let libvirt = LibvirtDouble([]) {
            _ = try attachments.service.attach([request(Self.starting, fixture)], deadline: .none)
        }
        _ = try Reconcile(attachments: attachments)(domains: libvirt, dryRun: false)
        let locks = try fixture.locks()
        #expect(locks.map(\.id) == [stale.id], "the refreshed lock keeps its id and survives: \(locks)")
        #expect(locks.first?.createdAt == Self.old)
        #expect(locks.first?.recordedAt != nil)
    }

    @Test("the drop is an audit event (lock-delete, decision drop, why); a dry run changes nothing and emits none")
    func auditAndDryRun() throws {
        let fixture = try UseCaseFixture()
        let attachments = try fixture.attachments(try fixture.configuration(cluster: false))
        let lock = hookLock(Self.gone, fixture)
        try seed(fixture, [lock])
        let events = Mutex<[AuditEvent]>([])
        AuditEventObservers.shared.add { event in
            if event.extra["lock_id"] == lock.id { events.withLock { $0.append(event) } }
        }
        let dry = try Reconcile(attachments: attachments)(domains: LibvirtDouble([]), dryRun: true)
        #expect(dry.steps.contains(.droppedLock(id: lock.id, reason: lock.reason, domainUUID: Self.gone)))
        #expect(try fixture.locks() == [lock])
        #expect(events.withLock { $0 }.isEmpty)

        _ = try Reconcile(attachments: attachments)(domains: LibvirtDouble([]), dryRun: false)
        #expect(try fixture.locks().isEmpty)
        let event = try #require(events.withLock { $0 }.first)
        #expect(event.kind == .lockDelete)
        #expect(event[.decision] == "drop")
        #expect(event[.domainUUID] == Self.gone)
        #expect(event.message.contains("dropped by reconcile: domain not active in libvirt"), "\(event.message)")
    }

    @Test("a lock whose time cannot be read is kept and reported; operator locks are never dropped")
    func undatedAndOperator() throws {
        let fixture = try UseCaseFixture()
        let attachments = try fixture.attachments(try fixture.configuration(cluster: false))
        let undated = hookLock(Self.gone, createdAt: "yesterday", fixture)
        let byHand = AttachmentLock(
            id: "0123456789abcdef", share: "one", mountPoint: fixture.mountBase + "/one", reason: "backup window",
            context: .operator, createdAt: Self.old)
        try seed(fixture, [undated, byHand])
        let report = try Reconcile(attachments: attachments)(domains: LibvirtDouble([]), dryRun: false)
        #expect(Set(try fixture.locks().map(\.id)) == [undated.id, byHand.id])
        #expect(report.steps.contains { if case .keptLock(undated.id, _, _, _) = $0 { return true } else { return false } })
    }

    @Test("libvirt failing changes nothing")
    func libvirtFails() throws {
        struct Refused: Error {}
        let fixture = try UseCaseFixture()
        let attachments = try fixture.attachments(try fixture.configuration(cluster: false))
        let lock = hookLock(Self.gone, fixture)
        try seed(fixture, [lock])
        #expect(throws: Refused.self) {
            try Reconcile(attachments: attachments)(domains: LibvirtDouble([]) { throw Refused() }, dryRun: false)
        }
        #expect(try fixture.locks() == [lock])
    }
}
