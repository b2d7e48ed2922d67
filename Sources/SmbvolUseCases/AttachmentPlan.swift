import AttachmentLocks
import DiskImages
import HandleEvidence
import StaleHandleCleanup
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
