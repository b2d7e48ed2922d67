import HandleEvidence
import DiskImages
import DomainXML
import LockHygiene
import QumuloClient
import SmbvolShares

/// One image of one disk, with its decisions (or why it could not be decided).
public struct ImageInspection: Sendable {
    public var image: LocatedImage
    /// Nil when the share root could not be resolved.
    public var clusterPath: String?
    /// The image's file number on the cluster (nil when the cluster has no such file).
    public var fileNumber: String?
    public var decisions: ImageDecisions?
}

/// Why the inspection of a domain could not finish.
public enum HygieneFailure: Error, Sendable, CustomStringConvertible {
    /// The cluster could not be asked (unreachable, TLS, 401/403, deadline): the caller maps it
    /// with `on_cluster_error` (continue | fail).
    case cluster(QumuloError)
    /// The domain or configuration is wrong (a path escaping its share, an unknown share):
    /// no amount of retrying helps.
    case configuration(String)

    public var description: String {
        switch self {
        case .cluster(let error): return "cluster error: \(error)"
        case .configuration(let message): return message
        }
    }
}

/// Everything a start (or incoming migration) would do for a domain's images.
public struct DomainInspection: Sendable {
    public var domainName: String
    public var domainUUID: String
    public var policy: HygienePolicy
    public var images: [ImageInspection]
    public var unmanagedDisks: [UnmanagedDisk]
    /// Set when the inspection stopped: no decision is acted on then.
    public var failure: HygieneFailure?

    public init(
        domainName: String, domainUUID: String, policy: HygienePolicy, images: [ImageInspection], unmanagedDisks: [UnmanagedDisk],
        failure: HygieneFailure?
    ) {
        self.domainName = domainName
        self.domainUUID = domainUUID
        self.policy = policy
        self.images = images
        self.unmanagedDisks = unmanagedDisks
        self.failure = failure
    }

    /// Refuse when any image refuses (decisions already combined domain-wide).
    public var verdict: HygieneVerdict {
        images.contains { $0.decisions?.verdict == .refuse } ? .refuse : .proceed
    }

    /// The cluster identity of every top image the cluster answered for, by local image path:
    /// what the attachment records keep so other domains recognise the image however they
    /// spell it.
    ///
    /// A shareable or read-only disk keeps its cluster path only, never its file number: the
    /// takeover watch looks records up by a lock's file number, and on such a disk another
    /// host holding the file beside this one is normal while smbvol never closes a handle
    /// there — any takeover record for it is not smbvol's, and must not pause the domain.
    /// (Other domains' starts still recognise it: by path, else by asking the cluster.)
    public var imageIdentities: [String: ImageIdentity] {
        var identities: [String: ImageIdentity] = [:]
        for image in images where !image.image.isBackingFile {
            guard let clusterPath = image.clusterPath, let fileNumber = image.fileNumber else { continue }
            let shared = image.image.access.shareable || image.image.access.readonly
            identities[image.image.image] = ImageIdentity(fileNumber: shared ? nil : fileNumber, clusterPath: clusterPath)
        }
        return identities
    }

    /// Every handle to close, per image, once the domain is known to proceed.
    public var closePlan: [(image: ImageInspection, locations: [String])] {
        guard failure == nil, verdict == .proceed else { return [] }
        return images.compactMap { image in
            let locations = image.decisions?.locationsToClose ?? []
            return locations.isEmpty ? nil : (image, locations)
        }
    }
}

/// What the hook does with an inspection: the typed outcome of "inspect → close → report".
public enum HygieneOutcome: Sendable {
    /// Go ahead; `closed` and `notClosed` say what the executor did.
    case proceed(closed: [String], notClosed: [(location: String, reason: String)])
    /// A live holder: the start must fail with this one-line message.
    case refuse(message: String)
    /// The cluster could not be asked; `proceedAnyway` is `on_cluster_error == continue`.
    case clusterUnavailable(QumuloError, proceedAnyway: Bool)
    /// The domain or configuration is wrong for smbvol; the start must fail with this message.
    case invalid(message: String)
}
