#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a path below a `NoFollowTree`'s root could not be used. Paths are the components below
/// the root joined with `/`.
public enum NoFollowPathError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(path: String)
    /// A symlink where a directory or a file was expected: never followed.
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

/// Files below a directory others can write to (a share), never following a symlink below it.
/// The root is opened as given (the caller's configured, trusted path); every component below
/// it is opened with `openat(…, O_NOFOLLOW)`, so a symlink planted below the root — by anyone
/// who can write there — is refused rather than followed out of the tree. Every method throws
/// `NoFollowPathError`.
public struct NoFollowTree: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    /// The regular file at `path` (components below the root), at most `limit` bytes.
    public func readFile(_ path: [String], limit: Int) throws -> [UInt8] {
        guard let name = path.last else { throw NoFollowPathError.invalidName("") }
        let directory = try openDirectory(Array(path.dropLast()), create: false)
        defer { close(directory) }
        let shown = Self.display(path)
        let descriptor = try openAt(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, shown: shown)
        defer { close(descriptor) }
        var info = stat()
        try call("fstat", shown) { fstat(descriptor, &info) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw NoFollowPathError.notRegularFile(path: shown) }
        guard info.st_size <= limit else { throw NoFollowPathError.tooLarge(path: shown, limit: limit) }
        // Read one byte past the limit: a file that grew after fstat is still refused.
        do {
            return try FileDescriptorIO.readAll(descriptor, limit: limit, path: shown)
        } catch let error as SystemCallError {
            throw Self.pathError(error)
        } catch is InputLimitExceeded {
            throw NoFollowPathError.tooLarge(path: shown, limit: limit)
        }
    }

    /// The names in the directory at `path` (without `.` and `..`); more than `limit` is refused.
    public func listDirectory(_ path: [String], limit: Int) throws -> [String] {
        let descriptor = try openDirectory(path, create: false)
        do {
            return try DirectoryListing.names(ofOpenDirectory: descriptor, path: Self.display(path), limit: limit)
        } catch let error as SystemCallError {
            throw NoFollowPathError.system(error)
        } catch is InputLimitExceeded {
            throw NoFollowPathError.tooManyEntries(path: Self.display(path), limit: limit)
        }
    }

    /// The first `limit` entries of the directory at `path`, each with its modification time in
    /// seconds since the epoch when it can be had without following a symlink (nil otherwise),
    /// and whether there were more.
    public func listEntries(_ path: [String], limit: Int) throws -> (entries: [(name: String, modified: Double?)], more: Bool) {
        let descriptor = try openDirectory(path, create: false)
        // The listing takes over one descriptor; fstatat needs the other.
        let statDescriptor = dup(descriptor)
        defer { if statDescriptor >= 0 { close(statDescriptor) } }
        let listed: (names: [String], more: Bool)
        do {
            listed = try DirectoryListing.firstNames(ofOpenDirectory: descriptor, path: Self.display(path), limit: limit)
        } catch let error as SystemCallError {
            throw NoFollowPathError.system(error)
        }
        let entries = listed.names.map { name -> (name: String, modified: Double?) in
            var info = stat()
            guard statDescriptor >= 0, fstatat(statDescriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return (name, nil) }
            return (name, Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        }
        return (entries, listed.more)
    }

    /// Replaces `name` in the directory at `directory` (created as needed, 0755) so that a reader,
    /// or a crash at any instant, sees the old or the new content: an O_EXCL temporary (0644) in
    /// the same directory, fsync, rename over the name, fsync of the directory where it can be.
    public func replaceFile(directory: [String], name: String, bytes: [UInt8]) throws {
        try Self.validate(name)
        let parent = try openDirectory(directory, create: true)
        defer { close(parent) }
        let temporary = "." + name + ".tmp-" + RandomIdentifier.hex(count: 12)
        let shown = Self.display(directory + [temporary])
        let descriptor = try openAt(parent, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: 0o644, shown: shown)
        var renamed = false
        defer { if !renamed { unlinkat(parent, temporary, 0) } }
        do {
            defer { close(descriptor) }
            try writeAll(bytes, to: descriptor, shown: shown)
            try call("fsync", shown) { fsync(descriptor) }
        }
        try call("renameat", Self.display(directory + [name])) { renameat(parent, temporary, parent, name) }
        renamed = true
        // Some file systems (and SMB clients) cannot fsync a directory; the rename is done.
        if fsync(parent) != 0 && errno != EINVAL && errno != EROFS && errno != EBADF {
            throw NoFollowPathError.system(SystemCallError.current("fsync", path: Self.display(directory)))
        }
    }

    /// Removes the file `name` in `directory`; a file (or directory) already gone is no error.
    public func removeFile(directory: [String], name: String) throws {
        try Self.validate(name)
        let parent: Int32
        do {
            parent = try openDirectory(directory, create: false)
        } catch NoFollowPathError.notFound {
            return
        }
        defer { close(parent) }
        if unlinkat(parent, name, 0) != 0 && errno != ENOENT {
            throw NoFollowPathError.system(SystemCallError.current("unlinkat", path: Self.display(directory + [name])))
        }
    }

    // MARK: - openat, one component at a time

    /// Opens the directory `path` below the root, creating missing components (0755) when asked.
    func openDirectory(_ path: [String], create: Bool) throws -> Int32 {
        var current = try call("open", root) { open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        for (index, component) in path.enumerated() {
            do {
                try Self.validate(component)
            } catch {
                close(current)
                throw error
            }
            let shown = Self.display(Array(path[...index]))
            let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
            var next = openat(current, component, flags)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(current, component, 0o755) != 0 && errno != EEXIST {
                    let error = SystemCallError.current("mkdirat", path: shown)
                    close(current)
                    throw NoFollowPathError.system(error)
                }
                next = openat(current, component, flags)
            }
            if next < 0 {
                let code = errno
                let error = classify(code, at: current, component, shown: shown, call: "openat")
                close(current)
                throw error
            }
            close(current)
            current = next
        }
        return current
    }

    func openAt(_ directory: Int32, _ name: String, _ flags: Int32, mode: mode_t = 0, shown: String) throws -> Int32 {
        try Self.validate(name)
        while true {
            let descriptor = openat(directory, name, flags, mode)
            if descriptor >= 0 { return descriptor }
            let code = errno
            if code == EINTR { continue }
            throw classify(code, at: directory, name, shown: shown, call: "openat")
        }
    }

    /// ELOOP / ENOTDIR from an O_NOFOLLOW open: say whether it was a symlink.
    func classify(_ code: Int32, at directory: Int32, _ name: String, shown: String, call: String) -> NoFollowPathError {
        switch code {
        case ENOENT: return .notFound(path: shown)
        case ELOOP, ENOTDIR, EMLINK:
            var info = stat()
            if fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
                if (info.st_mode & S_IFMT) == S_IFLNK { return .symbolicLink(path: shown) }
                if code == ENOTDIR { return .notDirectory(path: shown) }
            }
            return code == ELOOP ? .symbolicLink(path: shown) : .system(SystemCallError(call: call, path: shown, code: code))
        default:
            return .system(SystemCallError(call: call, path: shown, code: code))
        }
    }

    func writeAll(_ bytes: [UInt8], to descriptor: Int32, shown: String) throws {
        do {
            try FileDescriptorIO.writeAll(descriptor, bytes, path: shown)
        } catch {
            throw Self.pathError(error)
        }
    }

    @discardableResult
    func call(_ name: String, _ shown: String, _ body: () -> Int32) throws -> Int32 {
        do {
            return try retryingSystemCall(name, path: shown, body)
        } catch let error as SystemCallError {
            throw Self.pathError(error)
        }
    }

    static func pathError(_ error: SystemCallError) -> NoFollowPathError {
        error.code == ENOENT ? .notFound(path: error.path ?? "") : .system(error)
    }

    static func validate(_ name: String) throws {
        guard !name.isEmpty, name != ".", name != "..", !name.utf8.contains(UInt8(ascii: "/")), !name.utf8.contains(0) else {
            throw NoFollowPathError.invalidName(name)
        }
    }

    /// `a/b/c` for messages.
    static func display(_ components: [String]) -> String { components.joined(separator: "/") }
}
