import AttachmentLocks
import DiskImages
import DomainXML
import HandleEvidence
import StaleHandleCleanup
import HostHeartbeat
import LockHygiene
import Logging
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging

/// How a start (or incoming migration, or hot-attach) ended.
public enum StartOutcome: Sendable {
    /// No image on a configured share: nothing mounted, no network.
    case nothingToDo
    case attached(AttachmentReceipt)
    /// A live holder: what this run took was given back.
    case refused(StartRefusal)
    /// Anything else that stops the start; what this run took was given back.
    case failed(StartFailure)
}

/// Why a start (or incoming migration, or hot-attach) stopped, other than a live holder
/// (`StartRefusal`). Typed to the end: the executable renders it (`FailureText`).
public struct StartFailure: Error, Sendable {
    public enum Operation: String, Sendable {
        case start
        case incomingMigration = "incoming migration"
    }

    public enum Reason: Sendable {
        /// A mount the disks lie under does not answer; nothing under it was touched.
        case hungMount(MountCommandError)
        /// The cluster could not be asked and `on_cluster_error = fail`.
        case clusterUnavailable(QumuloError)
        /// A stale handle the decisions closed is still open: qemu would not get its image lock.
        case staleHandleNotClosed(location: String, reason: String)
        /// The domain or configuration is wrong for smbvol (a path escaping its share, an
        /// unknown share): no amount of retrying helps.
        case invalid(any Error)
        /// The attachment lock store could not be read.
        case lockStore(any Error)
        /// After a successful `migrate begin`, its mark could not be recorded; what the run
        /// took was given back.
        case migrationMarkNotRecorded(any Error)
        /// Anything else: the shares' configuration, mounting, locking, locating the images.
        case other(any Error)
    }

    public var operation: Operation
    public var domainName: String
    public var reason: Reason

    public init(_ operation: Operation, of domainName: String, _ reason: Reason) {
        self.operation = operation
        self.domainName = domainName
        self.reason = reason
    }

    /// What a thrown error means for the start: a hung mount, or anything else.
    public init(_ operation: Operation, of domainName: String, error: any Error) {
        if let mount = error as? MountCommandError, case .mountHung = mount {
            self.init(operation, of: domainName, .hungMount(mount))
        } else {
            self.init(operation, of: domainName, .other(error))
        }
    }
}

/// The start pipeline — VM start (`prepare begin`), incoming migration (`migrate begin` and the
/// `prepare` after it) and hot-attach: locate the disks' images once → check no mount they lie
/// under is hung → mount and record the locks → check the mounted images stay inside their
/// shares → gather evidence and decide → close the stale handles; on a refusal or failure,
/// give back exactly what this run took.
public struct StartDomain: Sendable {
    public let run: DomainRun
    public let attachments: ShareAttachments
    public let clusters: any ClusterClientMaking
    public let progress: any RunProgress
    public var mountGuard: HungMountGuard
    /// This host's addresses (its own handles are never a foreign holder).
    public var localAddresses: @Sendable () -> Set<String>
    /// False for a hot-attach retried on a disk already attached: the mount and the lock are
    /// made sure of, and nothing is closed (the handle on the image is the domain's own).
    public var closesStaleHandles = true

    public init(
        run: DomainRun, attachments: ShareAttachments, clusters: any ClusterClientMaking,
        progress: any RunProgress = NoRunProgress(), mountGuard: HungMountGuard = HungMountGuard(),
        localAddresses: @escaping @Sendable () -> Set<String>
    ) {
        self.run = run
        self.attachments = attachments
        self.clusters = clusters
        self.progress = progress
        self.mountGuard = mountGuard
        self.localAddresses = localAddresses
    }

    private var logger: Logger { run.logger }
    private var domain: DomainDefinition { run.domain }

    public func callAsFunction(migrating: Bool) -> StartOutcome {
        let operation: StartFailure.Operation = migrating ? .incomingMigration : .start
        do {
            let shares = try evidenceShares
            let located = try locateImages(on: shares)
            guard !located.images.isEmpty else { return .nothingToDo }
            progress.began(operation.rawValue, mayFail: true)
            let receipt = try attachments.service.attach(
                attachmentPlan(for: located.images).requests, deadline: run.deadlines.work, cleanupDeadline: run.deadlines.cleanup)
            var resolved = located
            do {
                resolved.images = try DiskImageLocator(catalog: shares).resolvingInsideShares(located.images)
            } catch {
                giveBack(receipt, after: operation)
                throw error
            }
            progress.attachmentRecorded()
            guard closesStaleHandles else {
                logger.notice("already attached: mount and lock made sure of, no handle looked at or closed", metadata: ["domain": "\(domain.name)"])
                writeClaims(resolved)
                return .attached(receipt)
            }
            guard let failure = cleanStaleHandles(resolved, on: shares, receipt: receipt, operation: operation) else {
                writeClaims(resolved)
                return .attached(receipt)
            }
            giveBack(receipt, after: operation)
            return failure
        } catch {
            // The caller renders (and the hook logs) the one line; logging it here too would
            // show an operator's `attach` the same error twice.
            return .failed(StartFailure(operation, of: domain.name, error: error))
        }
    }

    func locateImages(on shares: ShareCatalog) throws -> DomainImages {
        try LocateDomainImages(run: run, mountGuard: mountGuard)(on: shares)
    }

    /// The requests for `images` (one per disk and share), each with the image's own share.
    func attachmentPlan(for images: [LocatedImage]) -> AttachmentPlan {
        AttachmentPlan(
            images: images, domainName: domain.name, domainUUID: run.uuid.value, connectionInfoShares: attachments.connectionInfoShares)
    }

    /// This host's claim on every image the start took, before it reports success: other
    /// hosts' starts find the holder by it even while it has no handle (docs/stale-handle-policy.md,
    /// "Holder claims"). A claim not written is a warning, never a failed start.
    private func writeClaims(_ located: DomainImages) {
        let hostID = try? HostIdentity.hostID(configured: run.configuration.hostID)
        HostClaims(configuration: run.configuration, hostID: hostID, logger: logger)
            .write(HostClaims.heldImages(located.images, domainName: domain.name, domainUUID: run.uuid.value))
    }

    /// The refusal of a start whose images another host claims, freshly, when the cluster
    /// cannot be asked (or none is configured): the claims need no cluster. Nil: no such claim.
    private func claimRefusal(_ hygiene: DomainHygiene, located: DomainImages, because notAsked: StartRefusal.ClusterNotAsked) -> StartRefusal? {
        let holders = hygiene.beatingHolders(of: located) + hygiene.claimingHolders(of: located)
        guard !holders.isEmpty else { return nil }
        var event = AuditEvent(.refuse, message: "refused: \(notAsked) and a heartbeat or a holder claim shows a live holder")
        event[.domain] = domain.name
        event[.domainUUID] = run.uuid.value
        event[.reason] = holders.map(\.description).joined(separator: "; ")
        if case .unavailable(let error) = notAsked { event.extra["error"] = LineEscaping.oneLine("\(error)") }
        logger.audit(event)
        return StartRefusal(domainName: domain.name, clusterNotAsked: notAsked, holders: holders)
    }

    private func giveBack(_ receipt: AttachmentReceipt, after operation: StartFailure.Operation) {
        progress.givingBack()
        let report = attachments.service.release(receipt, deadline: run.deadlines.cleanup)
        if !report.unmountFailures.isEmpty {
            logger.error("could not give back a mount after a refused \(operation.rawValue)", metadata: ["failures": "\(report.unmountFailures)"])
        }
    }

    /// Evidence, decision and action on the located images; returns why the start must not go
    /// on, or nil to proceed.
    private func cleanStaleHandles(
        _ located: DomainImages, on shares: ShareCatalog, receipt: AttachmentReceipt, operation: StartFailure.Operation
    ) -> StartOutcome? {
        let migrating = operation == .incomingMigration
        let configuration = run.configuration
        guard !configuration.clusters.isEmpty else {
            if !migrating {
                let hygiene = DomainHygiene(
                    configuration: configuration, shares: shares, attachmentRecords: [], localAddresses: localAddresses(), logger: logger,
                    clientForCluster: { _ in throw ClusterNotAsked() })
                if let refusal = claimRefusal(hygiene, located: located, because: .noneConfigured) { return .refused(refusal) }
            }
            logger.notice("no [cluster] configured: shares mounted, stale-handle cleanup skipped")
            return nil
        }
        let records: [AttachmentLock]
        do {
            records = receipt.storeRecords.isEmpty ? try attachments.service.locks() : receipt.storeRecords
        } catch {
            return .failed(StartFailure(operation, of: domain.name, .lockStore(error)))
        }
        let hygiene = DomainHygiene(
            configuration: configuration, shares: shares, attachmentRecords: records, localAddresses: localAddresses(),
            logger: logger,
            clientForCluster: { [clusters, deadline = run.deadlines.work, logger] in
                try clusters.client(forCluster: $0, deadline: deadline, logger: logger)
            })
        hygiene.takeoverRecording = ShareTakeoverRecorder(
            hostID: hygiene.localHostID, hostname: HostIdentity.hostname(),
            localAddresses: hygiene.localAddresses.union(HeartbeatBeat.addresses(configuration: configuration)), logger: logger)
        let inspection = hygiene.inspect(domain, images: located, operation: migrating ? .migration : .start)
        switch hygiene.execute(inspection) {
        case .proceed(let closed, let notClosed):
            do {
                // Other domains' starts recognise this image by its file number from now on.
                try attachments.service.recordImageIdentities(
                    domainUUID: run.uuid.value, inspection.imageIdentities, deadline: run.deadlines.work, knownRecords: records)
            } catch {
                logger.warning(
                    "could not record the images' cluster identity in the attachment locks",
                    metadata: ["error": "\(LineEscaping.oneLine("\(error)"))"])
            }
            guard notClosed.isEmpty else {
                let first = notClosed[0]
                return .failed(StartFailure(operation, of: domain.name, .staleHandleNotClosed(location: first.location, reason: first.reason)))
            }
            if !closed.isEmpty {
                logger.notice("stale SMB handles closed", metadata: ["locations": "\(closed.joined(separator: ","))"])
            }
            return nil
        case .refuse(let refusal):
            return .refused(refusal)
        case .clusterUnavailable(let error, let proceedAnyway):
            // The share answers when the cluster does not: a host whose fresh heartbeat lists
            // an image is alive and may be writing it. Prefer downtime to corruption.
            if proceedAnyway && !migrating, let refusal = claimRefusal(hygiene, located: located, because: .unavailable(error)) {
                return .refused(refusal)
            }
            if proceedAnyway {
                logger.warning(
                    "cluster unavailable; start continues without stale-handle cleanup (on_cluster_error = continue)",
                    metadata: ["error": "\(LineEscaping.oneLine("\(error)"))"])
                return nil
            }
            return .failed(StartFailure(operation, of: domain.name, .clusterUnavailable(error)))
        case .invalid(let error):
            return .failed(StartFailure(operation, of: domain.name, .invalid(error)))
        }
    }

    /// The configured shares plus connection-info shares the configuration does not name
    /// (hot-attach): images are located, and their evidence found, on these. A configured
    /// share of the same name wins here; the connection info's credentials still mount it.
    private var evidenceShares: ShareCatalog {
        get throws {
            let extra = attachments.shares.filter { run.shares[$0.name] == nil }
            return extra.isEmpty ? run.shares : try ShareCatalog(shares: (run.shares.shares + extra).sorted { $0.name < $1.name })
        }
    }
}
