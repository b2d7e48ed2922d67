import SmbvolSystem

/// `ShareFileSystem` on the real file system. The share root is opened as given (it is this
/// host's configured mount point or `local_path`); every component below it is opened with
/// `openat(…, O_NOFOLLOW)`, so a symlink planted on the share — by anyone who can write to it —
/// is refused rather than followed out of the share (`NoFollowTree`, in SmbvolSystem, whose
/// `NoFollowPathError` is the `ShareFileError` every method throws).
public struct NoFollowShareFileSystem: ShareFileSystem {
    public init() {}

    public func readFile(root: String, path: [String], limit: Int) throws -> [UInt8] {
        try NoFollowTree(root: root).readFile(path, limit: limit)
    }

    public func listDirectory(root: String, path: [String], limit: Int) throws -> [String] {
        try NoFollowTree(root: root).listDirectory(path, limit: limit)
    }

    public func listEntries(root: String, path: [String], limit: Int) throws -> ShareDirectoryListing {
        let listed = try NoFollowTree(root: root).listEntries(path, limit: limit)
        return ShareDirectoryListing(entries: listed.entries.map { .init(name: $0.name, modified: $0.modified) }, truncated: listed.more)
    }

    public func replaceFile(root: String, directory: [String], name: String, bytes: [UInt8]) throws {
        try NoFollowTree(root: root).replaceFile(directory: directory, name: name, bytes: bytes)
    }

    public func removeFile(root: String, directory: [String], name: String) throws {
        try NoFollowTree(root: root).removeFile(directory: directory, name: name)
    }
}
