import Logging
import SmbvolLogging
import SmbvolShares
import SmbvolSystem

extension ShareAttachmentService {
    /// Mounts the shares of `requests` (idempotently) and records one hook lock per (domain,
    /// disk). On failure, whatever this call took is given back before the error is thrown —
    /// within `cleanupDeadline`, which may lie after `deadline` (a timed-out run still unmounts).
    /// `domainStarting`: false for a domain that runs already (`reconnect`): a lock it finds
    /// keeps its `recordedAt` — the time its domain began using the image, which the takeover
    /// watch compares records with (a refreshed time would make a zombie writer's lock look
    /// newer than the takeover of its image).
    public func attach(
        _ requests: [DiskAttachmentRequest], deadline: Deadline, cleanupDeadline: Deadline? = nil, domainStarting: Bool = true
    ) throws -> AttachmentReceipt {
        var receipt = AttachmentReceipt()
        let byShare = Dictionary(grouping: requests, by: \.share)
        do {
            for share in byShare.keys.sorted(by: { $0.usablePath < $1.usablePath }) {
                let disks = byShare[share] ?? []
                try withShareLock(share, deadline: deadline) {
                    let mountedNow = share.isLocal ? false : try mounter.ensureMounted(share, deadline: deadline)
                    if mountedNow { receipt.mountedShares.append(share) }
                    let (created, locks, all) = try store.update(deadline: deadline) { locks in
                        let (created, mine) = record(disks, in: &locks, domainStarting: domainStarting)
                        return (created, mine, locks)
                    }
                    receipt.createdLockIDs += created.map(\.id)
                    receipt.locks += locks
                    receipt.storeRecords = all
                    for lock in created { logger.audit(lockEvent(lock, .lockAdd, message: "attachment lock added")) }
                }
            }
        } catch {
            _ = release(receipt, deadline: cleanupDeadline ?? deadline)
            throw error
        }
        return receipt
    }

    /// Gives back exactly what `receipt` took: its created locks, then unmounts the shares they
    /// leave without locks. For a hook run that mounted and then refused the start.
    public func release(_ receipt: AttachmentReceipt, deadline: Deadline) -> ReleaseReport {
        let ids = Set(receipt.createdLockIDs)
        let candidates = receipt.mountedShares + receipt.locks.filter { ids.contains($0.id) }.map(share(of:))
        if ids.isEmpty {
            // Nothing was recorded (e.g. the store's flock could not be had): no need to wait for
            // the store again; only the mounts this run made are given back.
            var report = ReleaseReport()
            for share in receipt.mountedShares where !share.isLocal {
                unmountIfUnused(share, deadline: deadline, report: &report)
            }
            return report
        }
        return removeLocks(where: { ids.contains($0.id) && $0.context == .hook }, candidates: candidates, deadline: deadline)
    }

    func record(_ disks: [DiskAttachmentRequest], in locks: inout [AttachmentLock], domainStarting: Bool = true) -> ([AttachmentLock], [AttachmentLock]) {
        var created: [AttachmentLock] = []
        var all: [AttachmentLock] = []
        for disk in disks {
            let reason = AttachmentLock.diskReason(domainName: disk.domainName, disk: disk.disk)
            if let index = locks.firstIndex(where: {
                $0.context == .hook && $0.domainUUID == disk.domainUUID && $0.disk == disk.disk
            }) {
                // Same domain and disk again (a repeated prepare): refresh, keep the id.
                locks[index].share = disk.share.name
                locks[index].mountPoint = disk.share.usablePath
                locks[index].domainName = disk.domainName
                let anotherImage = locks[index].image != disk.image
                if anotherImage {
                    // Another image: the identity recorded for the old one no longer holds.
                    locks[index].fileNumber = nil
                    locks[index].clusterPath = nil
                }
                locks[index].image = disk.image
                locks[index].reason = reason
                // A start of the domain again: `reconcile` must see this lock as new. A domain
                // that runs already (reconnect) began using this image when its lock was recorded.
                if domainStarting || anotherImage { locks[index].recordedAt = preciseNow() }
                all.append(locks[index])
                continue
            }
            let lock = AttachmentLock(
                id: RandomIdentifier.hex(count: 16), share: disk.share.name, mountPoint: disk.share.usablePath,
                domainUUID: disk.domainUUID, domainName: disk.domainName, disk: disk.disk, image: disk.image,
                reason: reason, context: .hook, createdAt: now(), recordedAt: preciseNow())
            locks.append(lock)
            created.append(lock)
            all.append(lock)
        }
        return (created, all)
    }

    /// Records the cluster identity (file number, canonical cluster path) of the images of
    /// `domainUUID`'s hook locks, once lock hygiene has learnt it: other domains' starts then
    /// recognise the image however their XML spells it. Keyed by the lock's image path.
    public func recordImageIdentities(
        domainUUID: String, _ identities: [String: ImageIdentity], deadline: Deadline,
        knownRecords: [AttachmentLock]? = nil
    ) throws {
        guard !identities.isEmpty else { return }
        // A repeated start finds them recorded: a plain read (or the records this run's attach
        // already holds) then spares every start the store's flock (readers need none: the file
        // is replaced atomically).
        let stale = try (knownRecords ?? store.load()).contains { lock in
            guard lock.context == .hook, lock.domainUUID == domainUUID, let identity = identities[lock.image] else { return false }
            return lock.fileNumber != identity.fileNumber || lock.clusterPath != identity.clusterPath
        }
        guard stale else { return }
        try store.update(deadline: deadline) { locks in
            for index in locks.indices where locks[index].context == .hook && locks[index].domainUUID == domainUUID {
                guard let identity = identities[locks[index].image] else { continue }
                locks[index].fileNumber = identity.fileNumber
                locks[index].clusterPath = identity.clusterPath
            }
        }
    }

    /// The share a lock record names: the known share at its mount point (the record keeps only
    /// the name and the directory), else a share known only from the record. The one place a
    /// record is matched back to a share.
    public func share(of lock: AttachmentLock) -> Share {
        knownShares.first { $0.usablePath == lock.mountPoint } ?? Share(recordedName: lock.share, mountPoint: lock.mountPoint)
    }
}
