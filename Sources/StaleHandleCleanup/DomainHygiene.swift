import HandleEvidence
import AttachmentLocks
import DiskImages
import DomainXML
import HostHeartbeat
import LockHygiene
import Logging
import QumuloClient
import SmbvolShares
import SmbvolConfig
import SmbvolLogging

/// "Evidence → decide → close the stale handles → report" for a domain's images, located
/// once by the caller: the lock-hygiene half of the start pipeline the hook (start, incoming
/// migration), hot-attach and `smbvol check` run. `inspect` only reads; `execute` is the only
/// place anything is closed.
public final class DomainHygiene {
    public let configuration: SmbvolConfiguration
    public let shares: ShareCatalog
    public let shareRoots: ShareRootResolver
    public let attachmentRecords: [AttachmentLock]
    public let localAddresses: Set<String>
    public let protectedClients: Set<String>
    public let logger: Logger
    /// The client for a share's cluster (`[share] cluster`, nil when only one is configured).
    /// Clients carry the caller's deadline.
    private let clientForCluster: (String?) throws -> QumuloClient
    private var clients: [String: QumuloClient] = [:]
    /// `/v3/smb/shares/` per cluster, listed at most once per run (for the fence rule).
    private var sharesListed: [String: [SMBShare]] = [:]
    /// Reads the heartbeat records of an image's holders from its share (tests count its reads).
    public var heartbeats = HeartbeatEvidenceCollector()
    /// Which local processes hold the images open (one scan of /proc per run, on demand).
    public var localOpeners = LocalImageOpeners()
    /// Reads the holder claims on each exclusive image from its share (one directory each).
    public var claims = HolderClaimCollector()
    /// Told after every confirmed close: leaves a takeover record when the handles were another
    /// host's (nil: none left, e.g. `smbvol check`, which closes nothing).
    public var takeoverRecording: (any TakeoverRecording)?
    /// This host's `host_id` (its own records are ignored); nil when it cannot be told.
    public lazy var localHostID: String? = try? HostIdentity.hostID(configured: configuration.hostID)

    public init(
        configuration: SmbvolConfiguration, shares: ShareCatalog, attachmentRecords: [AttachmentLock], localAddresses: Set<String>,
        extraProtectedClients: [String] = [], logger: Logger, clientForCluster: @escaping (String?) throws -> QumuloClient
    ) {
        self.configuration = configuration
        self.shares = shares
        self.shareRoots = ShareRootResolver(stateDirectory: configuration.stateDirectory)
        self.attachmentRecords = attachmentRecords
        self.localAddresses = localAddresses
        self.protectedClients = Set(configuration.policy.protectedClients + extraProtectedClients)
        self.logger = logger
        self.clientForCluster = clientForCluster
    }

    /// Total HTTP requests made so far across every cluster client (for `check` and tests).
    public var requestCount: Int { clients.values.reduce(0) { $0 + $1.requestCount } }

    public func client(forCluster name: String?) throws -> QumuloClient {
        let key = name ?? ""
        if let client = clients[key] { return client }
        let client = try clientForCluster(name)
        clients[key] = client
        return client
    }

    /// Reads everything and decides; closes nothing. Cluster errors end the inspection with
    /// `failure` set (typed, for `on_cluster_error`), never by throwing.
    public func inspect(
        _ domain: DomainDefinition, images located: DomainImages, operation: HygieneOperation, force: Bool = false
    ) -> DomainInspection {
        let policy = HygienePolicy.configured(configuration, operation: operation, force: force)
        var inspection = DomainInspection(
            domainName: domain.name, domainUUID: domain.uuid, policy: policy, images: [], unmanagedDisks: located.unmanagedDisks,
            failure: nil)
        let decider = LockHygieneDecider(policy: policy)
        localOpeners.register(imagePaths: located.images.map { $0.shareDirectory + "/" + $0.relativePath })
        do {
            for image in located.images {
                inspection.images.append(try inspect(image, domain: domain, decider: decider))
            }
        } catch let error as QumuloError {
            inspection.failure = .cluster(error)
        } catch {
            inspection.failure = .configuration(error)
        }
        let combined = LockHygieneDecider.applyingDomainRefusal(inspection.images.compactMap(\.decisions))
        var index = 0
        for position in inspection.images.indices where inspection.images[position].decisions != nil {
            inspection.images[position].decisions = combined[index]
            index += 1
        }
        return inspection
    }

    private func inspect(_ image: LocatedImage, domain: DomainDefinition, decider: LockHygieneDecider) throws -> ImageInspection {
        let share = image.share
        let client = try client(forCluster: share.cluster)
        let root = try shareRoots.root(of: share, client: client)
        let clusterPath = ShareRootResolver.clusterPath(root: root, relativePath: image.relativePath)
        var hygiene = ImageHygiene(
            client: client, shares: shares, shareRoots: shareRoots, records: AttachmentRecordIndex(records: attachmentRecords),
            localAddresses: localAddresses, protectedClients: protectedClients, heartbeats: heartbeats, localOpeners: localOpeners,
            localHostID: { [self] in self.localHostID },
            logger: logger)
        hygiene.claims = claims
        let (gathered, decisions) = try hygiene.decide(
            clusterPath: clusterPath, cluster: share.cluster, excludingDomain: domain.uuid, access: image.access, decider: decider,
            location: { (image.shareDirectory, image.relativePath) },
            shareRestrictions: { [self] in self.hostRestrictions(of: share, client: client) })
        return ImageInspection(image: image, clusterPath: clusterPath, fileNumber: gathered.fileNumber, decisions: decisions)
    }

    /// For a start the cluster could not be asked about (`on_cluster_error = continue`): the
    /// hosts whose fresh heartbeat lists one of the exclusive images, from the shares' records.
    /// A live holder seen this way refuses the start; records only ever add liveness, so
    /// finding none changes nothing.
    public func beatingHolders(of located: DomainImages) -> [ImageHolder] {
        var holders: [ImageHolder] = []
        for image in located.images where !image.access.shareable && !image.access.readonly {
            for host in heartbeats.beatingHolders(
                ofImage: image.relativePath, shareDirectory: image.shareDirectory, localHostID: localHostID,
                localAddresses: ClientAddress.canonical(localAddresses), freshSeconds: configuration.effectiveHeartbeatFreshSeconds)
            {
                holders.append(ImageHolder(image: image.image, clusterPath: nil, evidence: .freshHeartbeat(host)))
            }
        }
        return holders
    }

    /// For a start the cluster could not be asked about, or with no cluster configured: the
    /// hosts whose fresh claim is on one of the exclusive images (one directory per image; no
    /// cluster, so no fence is known), and the claim files that could not be read (they may
    /// hide one). Either refuses the start, as it would with the cluster.
    public func claimingHolders(of located: DomainImages) -> [ImageHolder] {
        let judgement = HolderClaimJudgement(freshSeconds: configuration.effectiveHeartbeatFreshSeconds)
        var holders: [ImageHolder] = []
        for image in located.images where !image.access.shareable && !image.access.readonly && !image.isBackingFile {
            var evidence = ImageEvidence(handles: [], localAddresses: ClientAddress.canonical(localAddresses))
            evidence.localHostID = localHostID
            evidence.claims = claims.gather(shareDirectory: image.shareDirectory, imagePath: image.relativePath).observations
            for claim in judgement.judge(evidence) where claim.status == .alive || claim.status == .unread {
                holders.append(ImageHolder(image: image.image, clusterPath: nil, evidence: claim.status == .alive ? .freshClaim(claim) : .unreadableClaims(claim)))
            }
        }
        return holders
    }

    /// The share's host restrictions as the cluster reports them (the share listing, once per
    /// cluster and run): nil when they cannot be read or the share is not found exactly once —
    /// unknown restrictions never fence anyone.
    func hostRestrictions(of share: Share, client: QumuloClient) -> [HostRestrictionFact]? {
        let key = share.cluster ?? ""
        if sharesListed[key] == nil {
            do {
                sharesListed[key] = try client.smbShares()
            } catch {
                logger.info("share host restrictions not read; the fence rule does not apply", metadata: ["error": "\(error)"])
                sharesListed[key] = []
            }
        }
        let matches = (sharesListed[key] ?? []).filter { $0.shareName.lowercased() == share.export?.share.lowercased() }
        guard matches.count == 1, let permissions = matches[0].networkPermissions else { return nil }
        return permissions.map { entry in
            HostRestrictionFact(kind: entry.type == .denied ? .denied : .allowed, addressRanges: entry.addressRanges, rights: Set(entry.rights))
        }
    }

    /// Acts on an inspection: closes the `close` decisions (only when the whole domain
    /// proceeds), audits every close and refusal, and maps failures to the caller's outcome.
    public func execute(_ inspection: DomainInspection) -> HygieneOutcome {
        let audit = HygieneAudit(logger: logger)
        switch inspection.failure {
        case .cluster(let error):
            logger.warning("could not ask the cluster about the domain's images", metadata: ["domain": "\(inspection.domainName)", "error": "\(error)"])
            return .clusterUnavailable(error, proceedAnyway: configuration.policy.onClusterError == .continue)
        case .configuration(let error):
            return .invalid(error)
        case nil: break
        }
        audit.recordIgnoredHeartbeats(inspection)
        audit.recordClaimAnomalies(inspection)
        if inspection.verdict == .refuse {
            for image in inspection.images {
                for decision in image.decisions?.decisions ?? [] where decision.action == .refuse {
                    audit.record(decision, event: "refuse", domainName: inspection.domainName, domainUUID: inspection.domainUUID, image: image)
                }
                for claim in image.decisions?.refusingClaims ?? [] {
                    audit.recordClaimRefusal(claim, domainName: inspection.domainName, domainUUID: inspection.domainUUID, image: image)
                }
            }
            return .refuse(StartRefusal(refusing: inspection))
        }
        var closedByImage: [String: ClosedHandles] = [:]
        var closed: [String] = []
        var notClosed: [(location: String, reason: String)] = []
        for (image, locations) in inspection.closePlan {
            let decisions = image.decisions?.decisions ?? []
            do {
                let share = image.image.share
                // Relist only this file: confirming must not cost a cluster-wide listing.
                let fileNumbers: Set<String>? = image.fileNumber.map { [$0] }
                let report = try client(forCluster: share.cluster).closeHandles(locations: locations, fileNumbers: fileNumbers)
                let failures = Dictionary(report.failed.map { ($0.location, $0.reason) }, uniquingKeysWith: { first, _ in first })
                for decision in decisions where decision.action == .close {
                    let outcome = failures[decision.handle.location].map { "not closed: \($0)" } ?? "closed"
                    audit.record(decision, event: "close", domainName: inspection.domainName, domainUUID: inspection.domainUUID, image: image, outcome: outcome)
                }
                closed += report.closed
                notClosed += report.failed
                if !report.closed.isEmpty {
                    let closedHandles = ClosedHandles(
                        domainName: inspection.domainName, domainUUID: inspection.domainUUID, image: image, decisions: decisions,
                        closedLocations: report.closed)
                    takeoverRecording?.recordTakeover(closedHandles)
                    closedByImage[image.image.image] = closedHandles
                }
            } catch {
                for location in locations { notClosed.append((location, "\(error)")) }
                for decision in decisions where decision.action == .close {
                    audit.record(decision, event: "close", domainName: inspection.domainName, domainUUID: inspection.domainUUID, image: image, outcome: "not closed: \(error)")
                }
            }
        }
        // Other hosts' stale (or fenced) claims on the images taken: a takeover record names
        // each, as if its handles had been closed — a host cut off while smbd dropped its
        // session has no handle to close, and must still stop its domain when it comes back.
        // Only once the domain is known to proceed (every close confirmed).
        if notClosed.isEmpty, let takeoverRecording {
            for image in inspection.images {
                guard let claims = image.decisions?.claimTakeovers, !claims.isEmpty else { continue }
                takeoverRecording.recordClaimTakeover(
                    ClaimTakeover(
                        domainName: inspection.domainName, domainUUID: inspection.domainUUID, image: image, claims: claims,
                        closedHandles: closedByImage[image.image.image]))
            }
        }
        return .proceed(closed: closed, notClosed: notClosed)
    }
}
