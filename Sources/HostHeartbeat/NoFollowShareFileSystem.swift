import SmbvolSystem

/// `ShareFileSystem` on the real file system. The share root is opened as given (it is this
/// host's configured mount point or `local_path`); every component below it is opened with
/// `openat(…, O_NOFOLLOW)`, so a symlink planted on the share — by anyone who can write to it —
/// is refused rather than followed out of the share (`NoFollowTree`, in SmbvolSystem).
public struct NoFollowShareFileSystem: ShareFileSystem {
    public init() {}

    public func readFile(root: String, path: [String], limit: Int) throws -> [UInt8] {
        try Self.onShare { try NoFollowTree(root: root).readFile(path, limit: limit) }
    }

    public func listDirectory(root: String, path: [String], limit: Int) throws -> [String] {
        try Self.onShare { try NoFollowTree(root: root).listDirectory(path, limit: limit) }
    }

    public func listEntries(root: String, path: [String], limit: Int) throws -> ShareDirectoryListing {
        let listed = try Self.onShare { try NoFollowTree(root: root).listEntries(path, limit: limit) }
        return ShareDirectoryListing(entries: listed.entries.map { .init(name: $0.name, modified: $0.modified) }, truncated: listed.more)
    }

    public func replaceFile(root: String, directory: [String], name: String, bytes: [UInt8]) throws {
        try Self.onShare { try NoFollowTree(root: root).replaceFile(directory: directory, name: name, bytes: bytes) }
    }

    public func removeFile(root: String, directory: [String], name: String) throws {
        try Self.onShare { try NoFollowTree(root: root).removeFile(directory: directory, name: name) }
    }

    /// Runs `body`, its `NoFollowPathError` thrown as the `ShareFileError` of the same case.
    static func onShare<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as NoFollowPathError {
            throw ShareFileError(error)
        }
    }
}

extension ShareFileError {
    init(_ error: NoFollowPathError) {
        switch error {
        case .notFound(let path): self = .notFound(path: path)
        case .symbolicLink(let path): self = .symbolicLink(path: path)
        case .notRegularFile(let path): self = .notRegularFile(path: path)
        case .notDirectory(let path): self = .notDirectory(path: path)
        case .tooLarge(let path, let limit): self = .tooLarge(path: path, limit: limit)
        case .tooManyEntries(let path, let limit): self = .tooManyEntries(path: path, limit: limit)
        case .invalidName(let name): self = .invalidName(name)
        case .system(let error): self = .system(error)
        }
    }
}
