import SmbvolSystem

/// Who created a lock: the libvirt hook (released with the domain) or an operator (removed only
/// by id, never by the hook).
public enum LockContext: String, Codable, Sendable, Equatable {
    case hook
    case `operator`
}

/// One reason a share must stay mounted: a disk of a domain, or an operator's hold.
public struct AttachmentLock: Codable, Sendable, Equatable, Hashable {
    public var id: String
    public var share: String
    public var mountPoint: String
    public var domainUUID: String
    public var domainName: String
    /// The disk's target dev (`vdb`); empty for operator locks.
    public var disk: String
    /// The image path; empty for operator locks.
    public var image: String
    public var reason: String
    public var context: LockContext
    /// ISO-8601, UTC (`2026-01-31T12:00:00Z`).
    public var createdAt: String
    /// When a hook last recorded this lock (created it, or a repeated prepare or a reconnect
    /// refreshed it), to the microsecond (`2026-01-31T12:00:00.123456Z`); nil in records of
    /// earlier releases. `reconcile` never drops a lock recorded after its libvirt query.
    public var recordedAt: String?
    /// The image's identity on its cluster, recorded once lock hygiene has asked: its file
    /// number, and its canonical cluster path. Nil in records written before smbvol recorded
    /// them, or when the cluster could not be asked; readers then fall back to the path.
    public var fileNumber: String?
    public var clusterPath: String?

    public init(
        id: String, share: String, mountPoint: String, domainUUID: String = "", domainName: String = "",
        disk: String = "", image: String = "", reason: String, context: LockContext, createdAt: String,
        fileNumber: String? = nil, clusterPath: String? = nil, recordedAt: String? = nil
    ) {
        self.id = id
        self.share = share
        self.mountPoint = mountPoint
        self.domainUUID = domainUUID
        self.domainName = domainName
        self.disk = disk
        self.image = image
        self.reason = reason
        self.context = context
        self.createdAt = createdAt
        self.fileNumber = fileNumber
        self.clusterPath = clusterPath
        self.recordedAt = recordedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, share, disk, image, reason, context
        case mountPoint = "mount_point"
        case domainUUID = "domain_uuid"
        case domainName = "domain_name"
        case createdAt = "created_at"
        case fileNumber = "file_number"
        case clusterPath = "cluster_path"
        case recordedAt = "recorded_at"
    }

    /// The latest moment a hook wrote this lock, in seconds since the epoch: the end of
    /// `recordedAt`'s microsecond, else of `createdAt`'s second (the lock may date from any
    /// instant in it).
    /// Nil when it cannot be read: such a lock cannot be dated.
    public var latestRecordingSeconds: Double? {
        let created = UTCTimestamp.secondsSinceEpoch(iso8601: createdAt)
        guard let recordedAt else { return created.map { $0 + 1 } }
        guard let recorded = UTCTimestamp.secondsSinceEpoch(preciseISO8601: recordedAt) else { return nil }
        // The end of its microsecond, as for createdAt's second.
        return max(recorded + 0.000_001, created ?? recorded)
    }

    /// "domain web01 disk vdb" — the default reason of a hook lock.
    public static func diskReason(domainName: String, disk: String) -> String {
        "domain \(domainName) disk \(disk)"
    }

    /// One line for messages: `3f2a… (domain web01 disk vdb)`.
    public var summary: String { "\(id) (\(reason))" }
}
