import SmbvolConfig

/// How mount.cifs gets the account: a credentials file an administrator wrote, or secrets that
/// came with connection info and go into a temporary file for the duration of the mount.
public enum MountCredentials: Sendable, Hashable, CustomStringConvertible {
    case file(String)
    case inline(username: String?, password: String?, domain: String?)

    public var description: String {
        switch self {
        case .file(let path): return "credentials file \(path)"
        case .inline(let username, _, let domain):
            return "inline credentials for \(username ?? "guest")\(domain.map { " in \($0)" } ?? "") (password redacted)"
        }
    }
}

/// The one typed share model: everything needed to mount one share (or, for a local share, to
/// use its path) and to find its images on the cluster. Built once per run from the
/// configuration (`ShareCatalog`) or from hot-attach connection info; mounts, attachment locks,
/// disk location and evidence all read this, never the raw `[share.NAME]` table.
///
/// One more form: a share this run knows only from attachment lock records
/// (`init(recordedName:mountPoint:)` — connection info of an earlier run, or a share since
/// removed from the configuration). A record keeps a share's name and directory only, so that
/// form has no export: it can be listed, locked and unmounted, never mounted.
public struct Share: Sendable, Hashable {
    public var name: String
    /// Nil only for a share known only from lock records.
    public var export: SMBExport?
    public var mountPoint: String
    /// Set when this host serves the share itself: nothing is mounted.
    public var localPath: String?
    public var credentials: MountCredentials?
    /// The share's own mount options, validated by `MountOptionsBuilder`.
    public var options: [String]
    public var allowNobrl: Bool
    /// The `[cluster.NAME]` serving it (nil: the only configured cluster, or none).
    public var cluster: String?
    /// The share's root as a cluster path (`fs_path`); nil: discovered by share name.
    public var clusterRoot: String?

    public init(
        name: String, export: SMBExport, mountPoint: String, localPath: String? = nil,
        credentials: MountCredentials?, options: [String], allowNobrl: Bool = false,
        cluster: String? = nil, clusterRoot: String? = nil
    ) {
        self.name = name
        self.export = export
        self.mountPoint = mountPoint
        self.localPath = localPath
        self.credentials = credentials
        self.options = options
        self.allowNobrl = allowNobrl
        self.cluster = cluster
        self.clusterRoot = clusterRoot
    }

    /// A `[share.NAME]` table: `mount_point` overrides the derived name; `local_path` wins over both.
    public init(configuration share: ShareConfiguration, mountBase: String) throws {
        let export = try SMBExport(parsing: share.export)
        self.init(
            name: share.name, export: export,
            mountPoint: share.localPath ?? share.mountPoint ?? MountPointNaming.mountPoint(for: export, mountBase: mountBase),
            localPath: share.localPath, credentials: share.credentials.map(MountCredentials.file),
            options: share.options, allowNobrl: share.allowNobrl, cluster: share.cluster, clusterRoot: share.fsPath)
    }

    /// A share known only from lock records: the name and the directory a record keeps.
    public init(recordedName name: String, mountPoint: String) {
        self.name = name
        export = nil
        self.mountPoint = mountPoint
        localPath = nil
        credentials = nil
        options = []
        allowNobrl = false
        cluster = nil
        clusterRoot = nil
    }

    /// Whether this run knows the share only from lock records (no export: never mounted).
    public var isKnownOnlyFromRecords: Bool { export == nil }

    /// The export, for what needs one (mounting, finding the share on its cluster).
    public func requiredExport() throws -> SMBExport {
        guard let export else { throw MountConfigurationError.exportNotRecorded(share: name, mountPoint: mountPoint) }
        return export
    }

    /// Where the disk images are: the local path, or the mount point.
    public var usablePath: String { localPath ?? mountPoint }
    public var isLocal: Bool { localPath != nil }
}

extension Share {
    /// Two different exports at one directory (a `mount_point` equal to another share's, or to
    /// its derived one) would mount over each other and count each other's locks. Two names for
    /// one export at its one mount point are the same share (hot-attach connection info naming
    /// a configured export): their locks are counted together on purpose.
    public static func requireDistinctDirectories(_ shares: [Share]) throws {
        var seen: [String: Share] = [:]
        for share in shares {
            let directory = share.usablePath.count > 1 && share.usablePath.hasSuffix("/") ? String(share.usablePath.dropLast()) : share.usablePath
            if let other = seen[directory], other.name != share.name,
                other.isLocal || share.isLocal || other.export?.normalised != share.export?.normalised
            {
                throw MountConfigurationError.sharedDirectory(directory: directory, shares: [other.name, share.name])
            }
            seen[directory] = share
        }
    }
}
