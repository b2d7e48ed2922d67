import ArgumentParser
import AttachmentLocks
import DomainXML
import HandleEvidence
import Logging
import QumuloClient
import SMBMounts
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// What the hook does for one domain, once the XML and the configuration are read.
struct HookContext {
    let configuration: SmbvolConfiguration
    let domain: DomainDefinition
    let uuid: DomainUUID
    let logger: Logger
    /// When the work (mounting, asking the cluster, closing) must be done.
    let deadline: Deadline
    /// The overall deadline: the time after `deadline` is kept for giving back what a failed
    /// run took (unmount, drop its locks), so a timeout never leaves a mount behind.
    let cleanupDeadline: Deadline
    let marks: IncomingMigrationMarks

    init(configuration: SmbvolConfiguration, domain: DomainDefinition, uuid: DomainUUID, logger: Logger) {
        self.configuration = configuration
        self.domain = domain
        self.uuid = uuid
        self.logger = logger
        let clock = SystemClock()
        let overall = configuration.deadlineSeconds
        let reserve = min(5, overall * 0.25)
        deadline = .after(.milliseconds(Int64((overall - reserve) * 1000)), clock: clock)
        cleanupDeadline = .after(.milliseconds(Int64(overall * 1000)), clock: clock)
        marks = IncomingMigrationMarks(stateDirectory: configuration.stateDirectory, clock: clock)
    }

    /// The backstop: if this process still runs half a second after its deadline, children are
    /// killed and it exits — 0 for operations that must not fail; for start and migration 1
    /// until the mount and locks are recorded (`attachmentRecorded`), then per on_cluster_error.
    func armWatchdog(operation: String, mayFail: Bool) {
        DeadlineWatchdog.arm(
            after: configuration.deadlineSeconds + 0.5, exitStatus: mayFail ? 1 : 0,
            message: "smbvol: \(operation) for domain \(oneLine(domain.name)) did not finish within deadline_seconds = \(configuration.deadlineSeconds); child processes killed")
    }

    /// The mount and locks of a start are recorded: from now on the watchdog's verdict is the
    /// one a cluster that cannot be asked gets (on_cluster_error).
    func attachmentRecorded() {
        DeadlineWatchdog.setExitStatus(configuration.policy.onClusterError == .fail ? 1 : 0)
    }

    /// Something this run took is being given back: a watchdog firing now must fail the start.
    func givingBack() { DeadlineWatchdog.setExitStatus(1) }

    /// The disks' image files on configured shares; empty means "nothing for smbvol to do".
    func locatedImages() throws -> [LocatedImage] {
        // Resolving image paths follows them into the mounts: a hung mount would leave this
        // process stuck in the kernel, so mounts the disks lie under are asked first, in a child.
        let shares = try configuration.shares.values.map { try MountableShare(configuration: $0, mountBase: configuration.mountBase) }
        do {
            try HungMountGuard().check(paths: domain.disks.flatMap(\.imageFiles), shares: shares, deadline: deadline)
        } catch MountCommandError.mountHung(let share, let mountPoint, let seconds) {
            logger.warning(
                "hung mount found; not touching it",
                metadata: ["event": "hung-mount", "share": "\(share)", "mount_point": "\(mountPoint)", "domain": "\(domain.name)"])
            throw MountCommandError.mountHung(share: share, mountPoint: mountPoint, seconds: seconds)
        }
        let locator = try DiskImageLocator(configuration: configuration)
        var images: [LocatedImage] = []
        for disk in domain.disks {
            images += try locator.locate(disk, hintedShare: domain.hintedShare(for: disk))
        }
        return images
    }

    /// One attachment request per disk and share its images live on.
    func attachmentRequests(for images: [LocatedImage], wiring: ShareAttachmentWiring) throws -> [DiskAttachmentRequest] {
        var requests: [DiskAttachmentRequest] = []
        var seen: Set<String> = []
        // The first image of each target, indexed once (not a scan per image: linear in disks).
        var topShare: [String: String] = [:]
        for image in images where topShare[image.target] == nil { topShare[image.target] = image.share }
        for image in images {
            let diskName = image.share == topShare[image.target] ? image.target : "\(image.target)+\(image.share)"
            guard seen.insert(diskName).inserted else { continue }
            requests.append(
                DiskAttachmentRequest(
                    domainUUID: uuid.value, domainName: domain.name, disk: diskName, image: image.image,
                    share: try wiring.target(named: image.share)))
        }
        return requests
    }

    /// A client for a share's cluster, from the configuration alone (the hook has no flags and
    /// a scrubbed environment), bounded by the hook's deadline.
    func makeClient(cluster name: String?) throws -> QumuloClient {
        let options = try ClusterOptions.parse(name.map { ["--cluster", $0] } ?? [])
        let connection = try ClusterConnection.resolve(
            options: options, configuration: configuration, environment: ProcessEnvironment.current())
        return try connection.makeClient(deadline: deadline, logger: logger)
    }
}
