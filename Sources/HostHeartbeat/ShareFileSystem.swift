import SmbvolSystem

/// Why a file on a share could not be read or written: SmbvolSystem's `NoFollowPathError`, one
/// line each naming the path below the share root.
public typealias ShareFileError = NoFollowPathError

/// The file operations heartbeat records need on a share, every one relative to the share's
/// root and never following a symlink below it. Production uses `NoFollowShareFileSystem`
/// (openat with O_NOFOLLOW on each component); unit tests use doubles that count the calls.
public protocol ShareFileSystem: Sendable {
    /// The regular file at `path` (components below `root`), at most `limit` bytes.
    func readFile(root: String, path: [String], limit: Int) throws -> [UInt8]
    /// The names in the directory at `path` (without `.` and `..`), at most `limit` of them.
    func listDirectory(root: String, path: [String], limit: Int) throws -> [String]
    /// Replaces `name` in the directory at `directory` (created as needed) so that a reader, or
    /// a crash at any instant, sees the old or the new content: an O_EXCL temporary in the same
    /// directory, fsync, rename over the name.
    func replaceFile(root: String, directory: [String], name: String, bytes: [UInt8]) throws
    /// Removes the file `name` in `directory`; a file already gone is not an error.
    func removeFile(root: String, directory: [String], name: String) throws
    /// The first `limit` entries of the directory at `path`, each with its modification time
    /// when it can be had without following a symlink (nil otherwise), and whether there were
    /// more. Never refuses a crowded directory: its first entries are still usable.
    func listEntries(root: String, path: [String], limit: Int) throws -> ShareDirectoryListing
}

/// A directory's entries as `ShareFileSystem.listEntries` gives them.
public struct ShareDirectoryListing: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// Seconds since the epoch (the server's clock, as the mount reports it).
        public var modified: Double?

        public init(name: String, modified: Double?) {
            self.name = name
            self.modified = modified
        }
    }

    public var entries: [Entry]
    /// The directory had more entries than were listed.
    public var truncated: Bool

    public init(entries: [Entry], truncated: Bool) {
        self.entries = entries
        self.truncated = truncated
    }
}

extension ShareFileSystem {
    /// For doubles that only list names: no times, and a directory past the limit refused.
    public func listEntries(root: String, path: [String], limit: Int) throws -> ShareDirectoryListing {
        ShareDirectoryListing(entries: try listDirectory(root: root, path: path, limit: limit).map { .init(name: $0, modified: nil) }, truncated: false)
    }
}

extension ShareFileSystem {
    /// `a/b/c` for messages.
    static func display(_ components: [String]) -> String { components.joined(separator: "/") }
}
