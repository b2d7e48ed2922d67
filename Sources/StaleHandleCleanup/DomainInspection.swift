import HandleEvidence
import DiskImages
import DomainXML
import LockHygiene
import QumuloClient
import SmbvolLogging
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
    case configuration(any Error)

    public var description: String {
        switch self {
        case .cluster(let error): return "cluster error: \(error)"
        case .configuration(let error): return "\(error)"
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
    /// A live holder: the start must fail; the refusal names every holder and its evidence.
    case refuse(StartRefusal)
    /// The cluster could not be asked; `proceedAnyway` is `on_cluster_error == continue`.
    case clusterUnavailable(QumuloError, proceedAnyway: Bool)
    /// The domain or configuration is wrong for smbvol (`HygieneFailure.configuration`): the
    /// start must fail with this error.
    case invalid(any Error)
}

/// Why a start must not take its images: who holds them, each with the evidence that shows the
/// holder alive. Nothing was closed. The executable renders it (`FailureText`); this type holds
/// no sentence.
public struct StartRefusal: Error, Sendable {
    public var domainName: String
    /// Nil when the cluster was asked (its handles and the images' claims decided); else why
    /// only the shares' heartbeat records and holder claims were read.
    public var clusterNotAsked: ClusterNotAsked?
    /// One per refused image when the cluster decided (its first refusing evidence); every
    /// beating host and every live or unreadable claim otherwise, heartbeats first.
    public var holders: [ImageHolder]

    public init(domainName: String, clusterNotAsked: ClusterNotAsked?, holders: [ImageHolder]) {
        self.domainName = domainName
        self.clusterNotAsked = clusterNotAsked
        self.holders = holders
    }

    /// The refusal of an inspection whose verdict is refuse: for each refused image, the first
    /// live handle, else the first live claim, else the first unreadable claim, else the
    /// decisions' summary.
    public init(refusing inspection: DomainInspection) {
        var holders: [ImageHolder] = []
        for image in inspection.images {
            guard let decisions = image.decisions, decisions.verdict == .refuse else { continue }
            let refusingClaims = decisions.refusingClaims
            let evidence: ImageHolder.Evidence
            if let decision = decisions.decisions.first(where: { $0.action == .refuse }) {
                evidence = .liveHandle(decision)
            } else if let claim = refusingClaims.first(where: { $0.status == .alive }) {
                evidence = .freshClaim(claim)
            } else if let claim = refusingClaims.first {
                evidence = .unreadableClaims(claim)
            } else {
                evidence = .undecided(summary: decisions.summary)
            }
            holders.append(ImageHolder(image: image.image.image, clusterPath: image.clusterPath, evidence: evidence))
        }
        self.init(domainName: inspection.domainName, clusterNotAsked: nil, holders: holders)
    }
}

extension StartRefusal {
    /// Why a start judged its images by the shares alone (heartbeat records and holder claims).
    public enum ClusterNotAsked: Sendable, CustomStringConvertible {
        case noneConfigured
        /// `on_cluster_error = continue`, and the cluster did not answer.
        case unavailable(QumuloError)

        public var description: String {
            switch self {
            case .noneConfigured: return "no [cluster] is configured"
            case .unavailable(let error): return "the Qumulo cluster cannot be asked (\(LineEscaping.oneLine("\(error)")))"
            }
        }
    }
}

/// Another holder of one of a domain's images, and what shows it alive.
public struct ImageHolder: Sendable, CustomStringConvertible {
    public enum Evidence: Sendable, CustomStringConvertible {
        /// A handle the decider refuses to close (a live session, a local opener, an
        /// unattributable or protected client …): its location, client addresses and reason.
        case liveHandle(HandleDecision)
        /// Another host's fresh heartbeat record lists the image (read without the cluster).
        case freshHeartbeat(BeatingHost)
        /// Another host's fresh holder claim on the image (no handle needed).
        case freshClaim(JudgedClaim)
        /// Claim files that could not be read: a live holder's claim may be among them.
        case unreadableClaims(JudgedClaim)
        /// The image refuses without a handle or claim to name: the decisions' summary.
        case undecided(summary: String)

        /// The evidence in the words of the decider and the collectors (also the audit's reason).
        public var description: String {
            switch self {
            case .liveHandle(let decision): return decision.reason
            case .freshHeartbeat(let host): return host.description
            case .freshClaim(let claim), .unreadableClaims(let claim): return claim.note
            case .undecided(let summary): return summary
            }
        }
    }

    /// The image as the domain names it.
    public var image: String
    /// Its path on the cluster; nil when the cluster was not asked (or the path not resolved).
    public var clusterPath: String?
    public var evidence: Evidence

    public init(image: String, clusterPath: String?, evidence: Evidence) {
        self.image = image
        self.clusterPath = clusterPath
        self.evidence = evidence
    }

    /// `image (cluster path): evidence`, or `image: evidence` without a cluster path.
    public var description: String {
        "\(image)\(clusterPath.map { " (\($0))" } ?? ""): \(evidence)"
    }
}
