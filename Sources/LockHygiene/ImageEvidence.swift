import SmbvolSystem

/// One SMB handle open on an image, as the cluster lists it.
public struct HandleFacts: Sendable, Equatable {
    public var location: String
    /// The auth_id of the identity holding the handle.
    public var ownerAuthId: String
    /// A display name for the owner (`svc-kvm`, else `auth_id:500`).
    public var ownerName: String
    public var byteRangeLocks: Int64

    public init(location: String, ownerAuthId: String, ownerName: String? = nil, byteRangeLocks: Int64 = 0) {
        self.location = location
        self.ownerAuthId = ownerAuthId
        self.ownerName = ownerName ?? "auth_id:\(ownerAuthId)"
        self.byteRangeLocks = byteRangeLocks
    }
}

/// One SMB session: which client address, which identity, how long idle.
public struct SessionFacts: Sendable, Equatable {
    /// The client's IP address (`originator`).
    public var originator: String
    public var ownerAuthId: String
    public var idleSeconds: Double

    public init(originator: String, ownerAuthId: String, idleSeconds: Double) {
        self.originator = originator
        self.ownerAuthId = ownerAuthId
        self.idleSeconds = idleSeconds
    }
}

/// Everything docs/stale-handle-policy.md lists as evidence for one image file F.
public struct ImageEvidence: Sendable, Equatable {
    /// Handles open on F.
    public var handles: [HandleFacts]
    /// A: client addresses holding share-mode or byte-range grants on F.
    public var grantAddresses: Set<String>
    /// Sessions of the handles' owners (any address; only those from A matter).
    public var sessions: [SessionFacts]
    /// L: this host's addresses (interfaces plus `local_addresses`).
    public var localAddresses: Set<String>
    /// Local domains other than the one being started that the attachment records show on F.
    /// Bookkeeping: an extra reason for liveness, never the only one.
    public var otherLocalDomains: [String]
    /// Local processes that hold F open, as the kernel shows them (`/proc/PID/fd`, by device
    /// and inode). Looked at only when a holder address is this host's; when they could not be
    /// seen, `incompleteListings` says so and nothing of this host's is closed.
    public var localOpeners: [LocalFileOpener] = []
    /// Addresses whose handles are never closed (`protected_clients`, `--keep-client`).
    public var protectedClients: Set<String>
    /// Listings that stopped early (named for the operator). Missing evidence: nothing is
    /// closed on it unless forced.
    public var incompleteListings: [String]
    /// The host restrictions of F's share as the cluster reported them in this run; nil when
    /// not read (only read when every holder has lost its sessions) or unknown. Never read from
    /// a file on the share.
    public var shareRestrictions: [HostRestrictionFact]?
    /// Heartbeat records found for the addresses in A (only ever add liveness).
    public var heartbeats: [HeartbeatObservation] = []
    /// This host's `host_id`: its own records and claims are ignored.
    public var localHostID: String?
    /// The holder claims found on F's share for F (one directory, whatever the handles):
    /// they only ever add a refusal or a takeover record.
    public var claims: [HolderClaimObservation] = []

    public init(
        handles: [HandleFacts], grantAddresses: Set<String> = [], sessions: [SessionFacts] = [],
        localAddresses: Set<String> = [], otherLocalDomains: [String] = [], protectedClients: Set<String> = [],
        incompleteListings: [String] = []
    ) {
        self.handles = handles
        self.grantAddresses = grantAddresses
        self.sessions = sessions
        self.localAddresses = localAddresses
        self.otherLocalDomains = otherLocalDomains
        self.protectedClients = protectedClients
        self.incompleteListings = incompleteListings
    }
}

/// How the disk uses the image: shareable or readonly disks legitimately have several holders.
public struct DiskAccess: Sendable, Equatable {
    public var shareable: Bool
    public var readonly: Bool

    public init(shareable: Bool = false, readonly: Bool = false) {
        self.shareable = shareable
        self.readonly = readonly
    }

    public static let exclusive = DiskAccess()
}

/// What is about to happen to the image.
public enum HygieneOperation: String, Sendable, Equatable, CaseIterable {
    /// VM start (hook `prepare begin`) and hot-attach: live holders refuse the start.
    case start
    /// Incoming migration on the destination: one live holder is the source; never refuse.
    case migration
}

/// The operator's and the configuration's say in the decisions.
public struct HygienePolicy: Sendable, Equatable {
    public var operation: HygieneOperation
    /// `stale_after_seconds`: a session idle this long no longer proves its client alive.
    public var staleAfterSeconds: Double
    /// `--force`: close live and unattributable handles too (never protected clients, never
    /// shareable or readonly disks).
    public var force: Bool
    /// `heartbeat_fresh_seconds`: a record younger than this proves its host alive.
    public var heartbeatFreshSeconds: Double = 30

    public init(operation: HygieneOperation, staleAfterSeconds: Double = 180, force: Bool = false) {
        self.operation = operation
        self.staleAfterSeconds = staleAfterSeconds
        self.force = force
    }
}
