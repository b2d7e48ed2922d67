import SmbvolShares
#if canImport(Glibc)
import Glibc
#endif

/// Whether a share is mounted on this host: the one answer `start`, `check`, `mounts`,
/// `holders` and `heartbeat` all go by.
public enum ShareMountState: Sendable, Equatable {
    /// A `local_path` share: nothing to mount, always usable.
    case local
    /// Nothing is mounted at the share's mount point.
    case notMounted
    /// Something that is not the share's export is mounted there.
    case foreign(MountTableEntry)
    /// The share's export is mounted there (for a share known only from lock records, which
    /// has no export: an export smbvol would mount at a directory of that name).
    case mounted(MountTableEntry)

    /// Local, or the share's own export is mounted.
    public var isUsable: Bool {
        switch self {
        case .local, .mounted: return true
        case .notMounted, .foreign: return false
        }
    }
}

/// Answers "is this share mounted here, where, does it answer?" from the mount table.
///
/// The mount table lists real paths: with `state_dir` or `mount_base` behind a symlink, the
/// configured spelling of a mount point is resolved (`canonicalMountPoint`) before it is looked
/// up, or a share mounted a moment ago would look unmounted.
public struct ShareMountQuery: Sendable {
    public var mountTable: any MountTableReading

    public init(mountTable: any MountTableReading = ProcMountTableReader()) { self.mountTable = mountTable }

    /// The share's state, from the mount table read now.
    public func state(of share: Share) throws -> ShareMountState {
        if share.isLocal { return .local }
        return Self.state(of: share, in: try MountTable.read(from: mountTable))
    }

    /// Every share's state, from one reading of the mount table (an unreadable one: none
    /// mounted), by share name.
    public func states(of shares: [Share]) -> [String: ShareMountState] {
        let table = (try? MountTable.read(from: mountTable)) ?? MountTable(entries: [])
        var states: [String: ShareMountState] = [:]
        for share in shares { states[share.name] = Self.state(of: share, in: table) }
        return states
    }

    /// The topmost mount at `mountPoint` (configured spelling or its real path), read now.
    public func entry(at mountPoint: String) throws -> MountTableEntry? {
        Self.entry(at: mountPoint, in: try MountTable.read(from: mountTable))
    }

    /// Whether the mount at the share's mount point answers; nil for a `local_path` share.
    /// Probed in a child process: a hung mount costs the probe's time, never a blocked caller.
    public func health(of share: Share, probe: any MountHealthProbing) -> MountHealth? {
        share.isLocal ? nil : probe.health(of: share.mountPoint)
    }

    public static func state(of share: Share, in table: MountTable) -> ShareMountState {
        if share.isLocal { return .local }
        guard let entry = entry(at: share.mountPoint, in: table) else { return .notMounted }
        return ShareMounter.recognises(entry, mountPoint: share.mountPoint, expected: share.export) ? .mounted(entry) : .foreign(entry)
    }

    public static func entry(at mountPoint: String, in table: MountTable) -> MountTableEntry? {
        if let found = table.entry(at: mountPoint) { return found }
        let canonical = canonicalMountPoint(mountPoint)
        return canonical == mountPoint ? nil : table.entry(at: canonical)
    }

    /// A mount point's real path: the directory it is in resolved (`mount_base` or `state_dir`
    /// behind a symlink), its own name kept — resolving the mount point itself would step into
    /// the mounted filesystem, which blocks when that mount hangs.
    public static func canonicalMountPoint(_ mountPoint: String) -> String {
        var components = mountPoint.split(separator: "/").map(String.init)
        guard let name = components.popLast() else { return mountPoint }
        let directory = canonicalPath("/" + components.joined(separator: "/"))
        return (directory == "/" ? "" : directory) + "/" + name
    }

    /// The real path of the longest existing prefix of `path`, the rest appended.
    public static func canonicalPath(_ path: String) -> String {
        var components = path.split(separator: "/").map(String.init)
        var missing: [String] = []
        while !components.isEmpty {
            if let resolved = realpath("/" + components.joined(separator: "/"), nil) {
                defer { free(resolved) }
                let base = String(cString: resolved)
                return ([base == "/" ? "" : base] + missing).joined(separator: "/")
            }
            missing.insert(components.removeLast(), at: 0)
        }
        return path
    }
}
