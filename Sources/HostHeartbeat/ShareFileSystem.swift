import SmbvolSystem

/// Why a file on a share could not be read or written. One line each, naming the path below
/// the share root.
public enum ShareFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(path: String)
    /// A symlink where a directory or a record was expected: never followed.
    case symbolicLink(path: String)
    case notRegularFile(path: String)
    case notDirectory(path: String)
    case tooLarge(path: String, limit: Int)
    case tooManyEntries(path: String, limit: Int)
    /// A name that is empty, `.`, `..`, or contains `/` or NUL (a bug in the caller).
    case invalidName(String)
    case system(SystemCallError)

    public var description: String {
        switch self {
        case .notFound(let path): return "\(path) does not exist"
        case .symbolicLink(let path): return "\(path) is a symbolic link (never followed on a share)"
        case .notRegularFile(let path): return "\(path) is not a regular file"
        case .notDirectory(let path): return "\(path) is not a directory"
        case .tooLarge(let path, let limit): return "\(path) is larger than \(limit) bytes"
        case .tooManyEntries(let path, let limit): return "\(path) has more than \(limit) entries"
        case .invalidName(let name): return "invalid file name \"\(name)\""
        case .system(let error): return error.description
        }
    }
}

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
}

extension ShareFileSystem {
    /// `a/b/c` for messages.
    static func display(_ components: [String]) -> String { components.joined(separator: "/") }
}
