import AttachmentLocks
import DiskImages
import DomainXML
import Logging
import SMBMounts
import HandleEvidence
import SmbvolShares

/// From a domain's located images to what the attachment layer mounts and records: one request
/// per disk and share its images live on. A start, an incoming migration, a reconnect and a
/// hot-attach all build their requests here; each request carries the `Share` its image was
/// located on, never a name to look up again.
public struct AttachmentPlan: Sendable, Equatable {
    public var requests: [DiskAttachmentRequest]

    /// - Parameter connectionInfoShares: shares from connection info, mounted in place of a
    ///   located share at the same directory: they bring the credentials (the evidence side
    ///   reads the configured share of that directory).
    public init(images: [LocatedImage], domainName: String, domainUUID: String, connectionInfoShares: [Share] = []) {
        var requests: [DiskAttachmentRequest] = []
        var seen: Set<String> = []
        // The first image of each target, indexed once (not a scan per image: linear in disks).
        var topShare: [String: String] = [:]
        for image in images where topShare[image.target] == nil { topShare[image.target] = image.share.name }
        for image in images {
            let name = image.share.name
            let diskName = name == topShare[image.target] ? image.target : "\(image.target)+\(name)"
            guard seen.insert(diskName).inserted else { continue }
            let share = connectionInfoShares.first { $0.usablePath == image.share.usablePath } ?? image.share
            requests.append(
                DiskAttachmentRequest(domainUUID: domainUUID, domainName: domainName, disk: diskName, image: image.image, share: share))
        }
        self.requests = requests
    }
}

/// The first step of a start, an incoming migration and a reconnect: the domain's disk images on
/// the shares, located once (`LocatedImage`s, each with its `Share`); empty means "nothing to
/// do". Resolving image paths follows them into the mounts, and a hung mount would leave this
/// process stuck in the kernel: the mounts the disks lie under are asked first, in a child.
public struct LocateDomainImages: Sendable {
    public let run: DomainRun
    public var mountGuard: HungMountGuard

    public init(run: DomainRun, mountGuard: HungMountGuard = HungMountGuard()) {
        self.run = run
        self.mountGuard = mountGuard
    }

    public func callAsFunction(on shares: ShareCatalog) throws -> DomainImages {
        let domain = run.domain
        do {
            try mountGuard.check(paths: domain.disks.flatMap(\.imageFiles), shares: shares.shares, deadline: run.deadlines.work)
        } catch MountCommandError.mountHung(let share, let mountPoint, let seconds) {
            run.logger.warning(
                "hung mount found; not touching it",
                metadata: ["event": "hung-mount", "share": "\(share)", "mount_point": "\(mountPoint)", "domain": "\(domain.name)"])
            throw MountCommandError.mountHung(share: share, mountPoint: mountPoint, seconds: seconds)
        }
        return try DiskImageLocator(catalog: shares).locate(domain)
    }
}
