#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What stat(2) or lstat(2) says about a path: its kind, permissions, owner, identity and times.
public struct FileStatus: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regularFile, directory, symbolicLink, socket, other
    }

    public var kind: Kind
    /// The permission bits (`st_mode & 0o7777`).
    public var permissions: UInt32
    public var owner: UInt32
    public var device: UInt64
    public var inode: UInt64
    /// Modification time: whole seconds since the epoch, and the nanoseconds past them.
    public var modifiedSeconds: Int
    public var modifiedNanoseconds: Int

    /// The path's status, symlinks followed (stat). Throws `SystemCallError` (call `stat`).
    public static func of(_ path: String) throws(SystemCallError) -> FileStatus {
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemCallError.current("stat", path: path) }
        return FileStatus(info)
    }

    /// The path's own status, a symlink not followed (lstat). Throws `SystemCallError` (call `lstat`).
    public static func ofLink(_ path: String) throws(SystemCallError) -> FileStatus {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw SystemCallError.current("lstat", path: path) }
        return FileStatus(info)
    }

    /// Modification time in (fractional) seconds since the epoch.
    public var modified: Double { Double(modifiedSeconds) + Double(modifiedNanoseconds) / 1e9 }

    init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .regularFile
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        case S_IFSOCK: kind = .socket
        default: kind = .other
        }
        permissions = UInt32(info.st_mode & 0o7777)
        owner = info.st_uid
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        modifiedSeconds = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
    }
}

/// Real paths (realpath(3)): every symlink and `.`/`..` resolved.
public enum RealPath {
    /// The real path of `path`; nil when it does not exist (or cannot be resolved).
    public static func resolve(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The real path of the longest existing prefix of `path`, with the rest appended: a file
    /// not created yet, or a share not mounted yet, is still resolved as far as it exists. Nil
    /// when not even the first component exists.
    public static func ofExistingPrefix(_ path: String) -> String? {
        var components = path.split(separator: "/").map(String.init)
        var missing: [String] = []
        while !components.isEmpty {
            if let resolved = resolve("/" + components.joined(separator: "/")) {
                return ([resolved == "/" ? "" : resolved] + missing).joined(separator: "/")
            }
            missing.insert(components.removeLast(), at: 0)
        }
        return nil
    }
}

/// Removing what smbvol itself created (leftover temporary files, its own mount directories).
/// Best effort: a caller that must know why a removal failed uses the store that owns the file.
public enum FileRemoval {
    /// unlink(2); true when the file was removed.
    @discardableResult
    public static func removeFile(_ path: String) -> Bool { unlink(path) == 0 }

    /// rmdir(2): only an empty directory goes; true when it was removed.
    @discardableResult
    public static func removeEmptyDirectory(_ path: String) -> Bool { rmdir(path) == 0 }
}

/// The errno values smbvol's callers tell apart, by name (what `SystemCallError.code` holds).
public enum Errno {
    public static let noSuchFileOrDirectory: Int32 = ENOENT
    public static let notADirectory: Int32 = ENOTDIR
    public static let inputOutput: Int32 = EIO
    public static let hostIsDown: Int32 = EHOSTDOWN
    public static let staleFileHandle: Int32 = ESTALE
    public static let notConnected: Int32 = ENOTCONN

    /// The C library's text for `code` (strerror, C locale), e.g. "No such file or directory".
    public static func message(for code: Int32) -> String { String(cString: strerror(code)) }
}
