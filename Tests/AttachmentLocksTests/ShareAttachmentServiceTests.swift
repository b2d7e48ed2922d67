import AttachmentLocks
import Logging
import SmbvolShares
import SmbvolSystem
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Counts mounts and unmounts; `mounted` is the fake kernel state.
final class CountingMounter: ShareMounting, Sendable {
    struct State {
        var mounted: Set<String> = []
        var mounts = 0
        var unmounts = 0
        /// Whether each unmount was told the share (not only a recorded name and directory).
        var unmountedKnowingShare: [Bool] = []
    }
    let state = Mutex(State())

    func ensureMounted(_ share: Share, deadline: Deadline) throws -> Bool {
        state.withLock { state in
            guard state.mounted.insert(share.usablePath).inserted else { return false }
            state.mounts += 1
            return true
        }
    }

    func unmount(_ share: Share, force: Bool, deadline: Deadline) throws -> Bool {
        state.withLock { state in
            guard state.mounted.remove(share.usablePath) != nil else { return false }
            state.unmounts += 1
            state.unmountedKnowingShare.append(!share.isKnownOnlyFromRecords)
            return true
        }
    }

    func isMounted(_ share: Share) throws -> Bool { state.withLock { $0.mounted.contains(share.usablePath) } }

    var counts: (mounts: Int, unmounts: Int, mounted: Bool) {
        state.withLock { ($0.mounts, $0.unmounts, !$0.mounted.isEmpty) }
    }
}

func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/smbvol-locks-test-XXXXXX".utf8CString)
    let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
        return String(cString: result)
    }
    guard let created else { throw SystemCallError.current("mkdtemp") }
    return created
}

@Suite("ShareAttachmentService")
struct ShareAttachmentServiceTests {
    let mounter = CountingMounter()
    let service: ShareAttachmentService
    let vmstore: Share
    let share: Share

    init() throws {
        vmstore = Share(
            name: "vmstore", export: try SMBExport(parsing: "//srv/vmstore"), mountPoint: "/var/lib/smbvol/mnt/srv_vmstore-1234abcd",
            credentials: nil, options: [])
        share = vmstore
        service = ShareAttachmentService(
            store: AttachmentLockStore(stateDirectory: try makeTemporaryDirectory() + "/state"), mounter: mounter,
            knownShares: [vmstore], logger: Logger(label: "test"))
    }

    func disk(_ domain: String, _ disk: String = "vda") -> DiskAttachmentRequest {
        DiskAttachmentRequest(
            domainUUID: "uuid-\(domain)", domainName: domain, disk: disk, image: share.mountPoint + "/\(domain).qcow2",
            share: vmstore)
    }

    @Test("the share is mounted once and unmounted only when its last lock goes")
    func lastLockUnmounts() throws {
        let first = try service.attach([disk("web01"), disk("web01", "vdb")], deadline: .none)
        _ = try service.attach([disk("db01")], deadline: .none)
        #expect(first.mountedShares == [share])
        #expect(first.createdLockIDs.count == 2)
        #expect(try service.locks().count == 3)
        #expect(mounter.counts.mounts == 1)

        let released = try service.releaseDomain(uuid: "uuid-web01", deadline: .none)
        #expect(released.removedLocks.count == 2)
        #expect(released.unmountedShares.isEmpty)
        #expect(mounter.counts.mounted)

        let last = try service.releaseDomain(uuid: "uuid-db01", deadline: .none)
        #expect(last.unmountedShares == ["vmstore"])
        #expect(mounter.counts == (1, 1, false))
        #expect(try service.releaseDomain(uuid: "uuid-db01", deadline: .none).removedLocks.isEmpty)
        #expect(mounter.counts.unmounts == 1)
    }

    @Test("a lock record is matched back to the known share at its mount point; an unknown one keeps its recorded name")
    func recordsMatchedBackToShares() throws {
        let receipt = try service.attach([disk("web01")], deadline: .none)
        let lock = try #require(receipt.locks.first)
        #expect(lock.share == "vmstore" && lock.mountPoint == vmstore.mountPoint)
        #expect(service.share(of: lock) == share)
        var elsewhere = lock
        elsewhere.share = "gone"
        elsewhere.mountPoint = "/var/lib/smbvol/mnt/gone-0000abcd"
        #expect(service.share(of: elsewhere) == Share(recordedName: "gone", mountPoint: "/var/lib/smbvol/mnt/gone-0000abcd"))
        #expect(service.share(of: elsewhere).isKnownOnlyFromRecords && service.share(of: elsewhere).export == nil)
        // The release unmounts with the share itself (its export recognises the mount).
        _ = try service.releaseDomain(uuid: "uuid-web01", deadline: .none)
        #expect(mounter.state.withLock { $0.unmountedKnowingShare } == [true])
    }

    @Test("the lock reason and fields follow the record format")
    func recordFields() throws {
        let receipt = try service.attach([disk("web01", "vdb")], deadline: .none)
        let lock = try #require(receipt.locks.first)
        #expect(lock.reason == "domain web01 disk vdb")
        #expect(lock.context == .hook)
        #expect(lock.id.count == 16)
        #expect(UTCTimestamp.secondsSinceEpoch(iso8601: lock.createdAt) != nil)
        #expect(UTCTimestamp.iso8601(secondsSinceEpoch: 1_700_000_000) == "2023-11-14T22:13:20Z")
    }

    @Test("attaching the same domain and disk again keeps the lock; releasing a receipt gives back only what it took")
    func receipts() throws {
        let first = try service.attach([disk("web01")], deadline: .none)
        let again = try service.attach([disk("web01"), disk("web02")], deadline: .none)
        #expect(again.locks.map(\.id).contains(first.createdLockIDs[0]))
        #expect(again.createdLockIDs.count == 1)
        #expect(again.mountedShares.isEmpty)
        _ = service.release(again, deadline: .none)
        #expect(try service.locks().map(\.id) == first.createdLockIDs)
        #expect(mounter.counts.mounted)
    }

    @Test("operator locks block unmounting and cannot be removed through the hook path")
    func operatorLocks() throws {
        _ = try service.attach([disk("web01")], deadline: .none)
        let hold = try service.addOperatorLock(share: share, reason: "backup window", deadline: .none)
        _ = try service.releaseDomain(uuid: "uuid-web01", deadline: .none)
        #expect(mounter.counts.mounted)
        #expect(throws: AttachmentError.operatorLockNotRemovable(id: hold.id)) {
            try service.deleteHookLock(id: hold.id, deadline: .none)
        }
        #expect(throws: AttachmentError.shareHasLocks(share: "vmstore", locks: [hold])) {
            try service.unmountShare(share, force: false, deadline: .none)
        }
        let (removed, report) = try service.deleteLock(id: hold.id, deadline: .none)
        #expect(removed == hold)
        #expect(report.unmountedShares == ["vmstore"])
        #expect(throws: AttachmentError.noSuchLock(id: hold.id)) { try service.deleteLock(id: hold.id, deadline: .none) }
        #expect(throws: AttachmentError.emptyReason) { try service.addOperatorLock(share: share, reason: " ", deadline: .none) }
    }

    @Test("a corrupt store is an error naming the file, and it is never overwritten")
    func corruptStore() throws {
        try SecureFiles.ensurePrivateDirectory(service.store.stateDirectory)
        let garbage = Array("{\"version\": 1, \"locks\": [".utf8)
        try AtomicFileWriter().write(garbage, to: service.store.storePath)
        do {
            _ = try service.attach([disk("web01")], deadline: .none)
            Issue.record("attach should fail")
        } catch let error as AttachmentLockStoreError {
            #expect(error.description.contains(service.store.storePath))
        }
        #expect(try readWholeFile(service.store.storePath) == garbage)
        // With the store unreadable nobody can prove the share unused, so it stays mounted.
        #expect(mounter.counts == (1, 0, true))
    }
}
