import HandleEvidence
import AttachmentLocks
import HostHeartbeat
import LockHygiene
import Logging
import QumuloClient
import SmbvolShares
import SmbvolSystem

/// Evidence → decisions for one image file on the cluster: the step the start pipeline runs for
/// each located image and `handles close --path P --stale-only` runs for P. One place, so the
/// operator's stale-only close can never decide differently from a VM start.
public struct ImageHygiene {
    public var client: QumuloClient
    public var shares: ShareCatalog
    public var shareRoots: ShareRootResolver
    public var records: AttachmentRecordIndex
    public var localAddresses: Set<String>
    public var protectedClients: Set<String>
    public var heartbeats: HeartbeatEvidenceCollector
    /// The kernel's view of which local processes hold the run's images open.
    public var localOpeners: LocalImageOpeners
    /// Reads the image's holder claims from its share; nil: claims are not read (an operator's
    /// close by cluster path, which has no image on a share to name).
    public var claims: HolderClaimCollector?
    /// This host's `host_id` (its own heartbeat records are ignored); nil when unknown. Asked
    /// only when heartbeat records are read.
    public var localHostID: () -> String?
    public var logger: Logger?

    public init(
        client: QumuloClient, shares: ShareCatalog, shareRoots: ShareRootResolver, records: AttachmentRecordIndex,
        localAddresses: Set<String>, protectedClients: Set<String>, heartbeats: HeartbeatEvidenceCollector = HeartbeatEvidenceCollector(),
        localOpeners: LocalImageOpeners, localHostID: @escaping () -> String?, logger: Logger?
    ) {
        self.localOpeners = localOpeners
        self.client = client
        self.shares = shares
        self.shareRoots = shareRoots
        self.records = records
        self.localAddresses = localAddresses
        self.protectedClients = protectedClients
        self.heartbeats = heartbeats
        self.localHostID = localHostID
        self.logger = logger
        self.claims = nil
    }

    /// Where the image is on this host: the share's directory (mount point or `local_path`) and
    /// the image's path below it. Asked only when a holder is tied to an address: its heartbeat
    /// records are read there, and its local openers are found by the file there.
    public typealias ImageLocation = () -> (directory: String, relativePath: String)?

    /// The evidence for the file at `clusterPath` of `cluster`, and the decision for each of
    /// its handles. Records of `excludingDomain` (the domain being started) do not count as
    /// another local domain.
    public func decide(
        clusterPath: String, cluster: String?, excludingDomain: String, access: DiskAccess, decider: LockHygieneDecider,
        location: @escaping ImageLocation, shareRestrictions: () -> [HostRestrictionFact]? = { nil }
    ) throws -> (gathered: GatheredEvidence, decisions: ImageDecisions) {
        let gatherer = ImageEvidenceGatherer(
            client: client, localAddresses: localAddresses, protectedClients: protectedClients, logger: logger,
            localOpeners: { [localOpeners] in localOpeners.openers(ofImageAt: location().map { $0.directory + "/" + $0.relativePath }) }
        ) { [records, shares, shareRoots, client] identity in
            // By the file's identity (file number, canonical path), never by the spelling of it.
            try records.domains(
                on: identity, cluster: cluster, excludingDomain: excludingDomain, shares: shares, shareRoots: shareRoots, client: client)
        }
        var gathered = try gatherer.gather(clusterPath: clusterPath)
        // Heartbeat records only add liveness, and matter only for handles tied to addresses;
        // reading them costs one directory per holder address on the share.
        if !gathered.evidence.handles.isEmpty, !gathered.evidence.grantAddresses.isEmpty, !access.shareable, !access.readonly,
            let location = location()
        {
            gathered.evidence.localHostID = localHostID()
            let found = heartbeats.gather(
                addresses: gathered.evidence.grantAddresses, shareDirectory: location.directory, imagePath: location.relativePath)
            gathered.evidence.heartbeats = found.observations
            // Records are read newest first by modification time, which any writer of the share
            // sets: a crowd of files dated ahead hides a live holder's fresh record. Unread
            // records are missing evidence — a refusal at worst, never a close.
            for (address, count) in found.notRead {
                gathered.evidence.incompleteListings.append(
                    "heartbeat records of \(address) (\(count) record file(s) not read: crowded directory)")
            }
        }
        // Holder claims are found by the image, not by its handles: one directory listing on
        // the share, whatever the handles (an smbd restart or a dropped session leaves a live
        // holder with none for a while).
        if let claims, !access.shareable, !access.readonly, let location = location() {
            gathered.evidence.localHostID = localHostID()
            // With no handle on the image the gatherer stopped early: the claim rules still
            // need this host's addresses (its own claim, a host_id collision).
            gathered.evidence.localAddresses.formUnion(ClientAddress.canonical(localAddresses))
            let found = claims.gather(shareDirectory: location.directory, imagePath: location.relativePath)
            gathered.evidence.claims = found.observations
            if found.notRead > 0 {
                gathered.evidence.incompleteListings.append("holder claims (\(found.notRead) claim file(s) not read)")
            }
        }
        // The fence rule needs the share's host restrictions only when every holder is another
        // host's address and none has a session left, or when another host's fresh claim would
        // refuse unless fenced: one share listing, on the failover path.
        let evidence = gathered.evidence
        let handlesNeedFence = !evidence.handles.isEmpty && !evidence.grantAddresses.isEmpty
            && evidence.grantAddresses.isDisjoint(with: evidence.localAddresses)
            && evidence.grantAddresses.isDisjoint(with: Set(evidence.sessions.map(\.originator)))
        let claimsNeedFence = HolderClaimJudgement(freshSeconds: decider.policy.heartbeatFreshSeconds).needsRestrictions(evidence)
        if !access.shareable, !access.readonly, handlesNeedFence || claimsNeedFence {
            gathered.evidence.shareRestrictions = shareRestrictions()
        }
        var decisions = decider.decide(gathered.evidence, disk: access)
        // Before closing a handle no address of this host holds, ask the kernel anyway (the
        // scan is made once per run): a local process holding the image open means the cluster
        // sees this host by an address smbvol does not know, and the handle may be its own.
        if decisions.decisions.contains(where: { $0.action == .close }), gathered.evidence.localOpeners.isEmpty,
            gathered.evidence.grantAddresses.isDisjoint(with: gathered.evidence.localAddresses),
            case .success(let openers) = localOpeners.openers(ofImageAt: location().map { $0.directory + "/" + $0.relativePath }),
            !openers.isEmpty
        {
            gathered.evidence.localOpeners = openers
            decisions = decider.decide(gathered.evidence, disk: access)
        }
        return (gathered, decisions)
    }
}
