import AttachmentLocks
import DomainXML
import StaleHandleCleanup
import HostHeartbeat
import Logging
import SMBMounts
import SmbvolShares
import SmbvolConfig

/// Which image a hot-attach is for: a configured share and the image's path below it, or
/// nova-style connection info (which brings its own share, options and credentials).
public enum HotAttachSource: Sendable {
    case share(name: String, relativePath: String)
    case connectionInfo(SMBConnectionInfo)
}

/// Hot-attach (`virsh attach-device` runs no hook): the start pipeline for one disk — mount its
/// share, clear stale handles, record the lock — so the operator can attach the image path.
public struct HotAttach: Sendable {
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case connectionInfoWithoutName
        case notOnAShare(String)
        /// The disk is already attached (a hook lock of this domain) to another image.
        case diskAttachedElsewhere(disk: String, domainName: String, uuid: DomainUUID, attachedImage: String)

        public var description: String {
            switch self {
            case .connectionInfoWithoutName: return "connection info needs data.name: the image's path below the share, without '..'"
            case .notOnAShare(let image): return "\(image) is on no configured share"
            case .diskAttachedElsewhere(let disk, let domainName, let uuid, let attachedImage):
                return
                    "disk \(disk) of \(domainName) is already attached to \(attachedImage); detach it first (`smbvol detach --domain \(uuid.value) --disk \(disk)`)"
            }
        }
    }

    public enum Outcome: Sendable {
        /// The lock of the disk (nil only if the store did not report it) and the image path.
        case attached(image: String, lock: AttachmentLock?)
        case refused(StartRefusal)
        case failed(StartFailure)
    }

    public let configuration: SmbvolConfiguration
    public let shares: ShareCatalog
    public let domainName: String
    public let uuid: DomainUUID
    public let disk: String
    public let logger: Logger
    /// Builds the attach side for the shares of this run (configured + connection info).
    public var makeAttachments: @Sendable ([Share]) -> ShareAttachments
    public let clusters: any ClusterClientMaking
    public var localAddresses: @Sendable () -> Set<String>
    /// The process's deadline backstop, as for a VM start (`deadline_seconds`).
    public var progress: any RunProgress

    public init(
        configuration: SmbvolConfiguration, shares: ShareCatalog, domainName: String, uuid: DomainUUID, disk: String,
        logger: Logger, clusters: any ClusterClientMaking, localAddresses: @escaping @Sendable () -> Set<String>,
        progress: any RunProgress = NoRunProgress(), makeAttachments: @escaping @Sendable ([Share]) -> ShareAttachments
    ) {
        self.progress = progress
        self.configuration = configuration
        self.shares = shares
        self.domainName = domainName
        self.uuid = uuid
        self.disk = disk
        self.logger = logger
        self.clusters = clusters
        self.localAddresses = localAddresses
        self.makeAttachments = makeAttachments
    }

    public func callAsFunction(_ source: HotAttachSource) throws -> Outcome {
        let image: String
        var extraShares: [Share] = []
        switch source {
        case .share(let name, let relativePath):
            image = try shares.share(named: name).usablePath + "/" + relativePath
        case .connectionInfo(let info):
            let mountable = info.mountableShare(mountBase: configuration.mountBase)
            guard let name = info.name, !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
                throw Failure.connectionInfoWithoutName
            }
            extraShares = [mountable]
            image = mountable.usablePath + "/" + name
        }
        // A one-disk domain: the same pipeline as a VM start, for this disk alone.
        let domain = DomainDefinition(name: domainName, uuid: uuid.value, disks: [DomainDisk(target: disk, sourceFile: image)])
        let run = DomainRun(
            configuration: configuration, shares: shares, domain: domain, uuid: uuid, deadlines: RunDeadlines(configuration: configuration),
            logger: logger)
        let attachments = makeAttachments(extraShares)
        var start = StartDomain(run: run, attachments: attachments, clusters: clusters, progress: progress, localAddresses: localAddresses)
        // Orchestrators retry: the same disk attached again to the same image is a no-op
        // success. Its handle is the running domain's own; looking for stale ones could only
        // close it.
        if let existing = try attachments.service.locks().first(where: {
            $0.context == .hook && $0.domainUUID == uuid.value && $0.disk == disk
        }) {
            guard existing.image == image else {
                throw Failure.diskAttachedElsewhere(disk: disk, domainName: domainName, uuid: uuid, attachedImage: existing.image)
            }
            start.closesStaleHandles = false
        }
        switch start(migrating: false) {
        case .nothingToDo: throw Failure.notOnAShare(image)
        case .refused(let refusal): return .refused(refusal)
        case .failed(let failure): return .failed(failure)
        case .attached(let receipt): return .attached(image: image, lock: receipt.locks.first { $0.disk == disk })
        }
    }
}

/// Undoes a hot-attach (`virsh detach-device` runs no hook): drops the disk's locks (also
/// those of its backing files on other shares, `vdb+share`), unmounts shares nobody holds.
public struct Detach: Sendable {
    public struct NoSuchLock: Error, Sendable, CustomStringConvertible {
        public var uuid: DomainUUID
        public var disk: String
        public var description: String { "no attachment lock for domain \(uuid) disk \(disk) (see `smbvol lock list`)" }
    }

    public let attachments: ShareAttachments

    public init(attachments: ShareAttachments) { self.attachments = attachments }

    public func callAsFunction(uuid: DomainUUID, disk: String) throws -> ReleaseReport {
        let service = attachments.service
        let all = try service.locks()
        let known = all.filter { $0.domainUUID == uuid.value && ($0.disk == disk || $0.disk.hasPrefix(disk + "+")) }
        guard !known.isEmpty else { throw NoSuchLock(uuid: uuid, disk: disk) }
        // This host's claim on the disk's image goes first, while its share is mounted.
        let configuration = attachments.configuration
        HostClaims(configuration: configuration, hostID: try? HostIdentity.hostID(configured: configuration.hostID), logger: service.logger)
            .remove(for: known, allLocks: all)
        var report = try service.detachDisk(domainUUID: uuid.value, disk: disk, deadline: attachments.deadline)
        for lock in known where lock.disk != disk {
            let extra = try service.detachDisk(domainUUID: uuid.value, disk: lock.disk, deadline: attachments.deadline)
            report.removedLocks += extra.removedLocks
            report.unmountedShares += extra.unmountedShares
            report.unmountFailures += extra.unmountFailures
        }
        return report
    }
}

extension ReleaseReport {
    /// What `detach` fails with once it has printed what it released: the shares that could
    /// not be unmounted (nil when none).
    public var detachFailure: SharesLeftMounted? {
        unmountFailures.isEmpty ? nil : SharesLeftMounted(after: .detach, failures: unmountFailures)
    }
}
