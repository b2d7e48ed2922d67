#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum SecureFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case notADirectory(path: String)
    case notARegularFile(path: String)
    case readableByOthers(path: String, mode: mode_t)
    case wrongOwner(path: String, uid: uid_t)
    case untrusted(path: String, uid: uid_t, mode: mode_t)

    public var description: String {
        switch self {
        case .notADirectory(let path):
            return "\(path) exists but is not a directory (or is a symlink): remove it or choose another path"
        case .notARegularFile(let path):
            return "secrets file \(path) is not a regular file: point the configuration at the file itself"
        case .readableByOthers(let path, let mode):
            return "secrets file \(path) has mode \(String(mode & 0o7777, radix: 8)): it must not be readable by group or others; "
                + "run `chmod 600 \(path)`"
        case .wrongOwner(let path, let uid):
            return "secrets file \(path) is owned by uid \(uid), not root: run `chown root:root \(path)`"
        case .untrusted(let path, let uid, let mode):
            let why = uid != 0 && uid != geteuid() ? "is owned by uid \(uid), not root" : "is writable by group or others (mode \(String(mode & 0o7777, radix: 8)))"
            return "\(path) \(why): whoever can write there could forge smbvol's records and turn a refusal into a start; "
                + "run `chown root:root \(path) && chmod go-w \(path)`"
        }
    }
}

public enum SecureFiles {
    /// Creates `path` (and missing parents, 0755) and makes sure the last component is a real
    /// directory (not a symlink) owned by us with exactly `mode` (default 0700).
    public static func ensurePrivateDirectory(_ path: String, mode: mode_t = 0o700) throws {
        try ensureDirectory(path, mode: mode, enforceMode: true)
    }

    /// Like `ensurePrivateDirectory` but only creates; an existing directory keeps its mode.
    public static func ensureDirectory(_ path: String, mode: mode_t = 0o755, enforceMode: Bool = false) throws {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        var current = path.hasPrefix("/") ? "" : "."
        for (index, component) in components.enumerated() {
            current += "/" + component
            let isLast = index == components.count - 1
            if mkdir(current, isLast ? mode : 0o755) == 0 {
                if isLast { try retryingSystemCall("chmod", path: current) { chmod(current, mode) } }
                continue
            }
            guard errno == EEXIST else { throw SystemCallError.current("mkdir", path: current) }
            if isLast {
                var info = stat()
                try retryingSystemCall("lstat", path: current) { lstat(current, &info) }
                guard (info.st_mode & S_IFMT) == S_IFDIR else { throw SecureFileError.notADirectory(path: current) }
                if enforceMode && (info.st_mode & 0o7777) != mode {
                    try retryingSystemCall("chmod", path: current) { chmod(current, mode) }
                }
            }
        }
    }

    /// Refuses a secrets file (e.g. a mount.cifs credentials file) that others could read or
    /// that someone other than root (or the running user) could have written.
    public static func verifySecretFile(_ path: String) throws {
        var info = stat()
        try retryingSystemCall("stat", path: path) { stat(path, &info) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw SecureFileError.notARegularFile(path: path) }
        // The advice names the file whose mode and owner were checked: for a symlink that is
        // its target (`chmod` follows the link anyway; naming the link hides what changes).
        let checked = realPath(path) ?? path
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            throw SecureFileError.wrongOwner(path: checked, uid: info.st_uid)
        }
        guard info.st_mode & 0o077 == 0 else {
            throw SecureFileError.readableByOthers(path: checked, mode: info.st_mode)
        }
    }

    /// Refuses a file or directory smbvol trusts (its state) that someone other than root (or
    /// the running user) owns or that group or others may write. A path that does not exist
    /// holds nothing to forge and passes. Symlinks are judged by what they point to, and the
    /// link's own owner too.
    public static func verifyTrusted(_ path: String) throws {
        var link = stat()
        guard lstat(path, &link) == 0 else {
            if errno == ENOENT { return }
            throw SystemCallError.current("lstat", path: path)
        }
        var info = link
        if (link.st_mode & S_IFMT) == S_IFLNK {
            guard link.st_uid == 0 || link.st_uid == geteuid() else { throw SecureFileError.untrusted(path: path, uid: link.st_uid, mode: link.st_mode) }
            try retryingSystemCall("stat", path: path) { stat(path, &info) }
        }
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            throw SecureFileError.untrusted(path: realPath(path) ?? path, uid: info.st_uid, mode: info.st_mode)
        }
        guard info.st_mode & 0o022 == 0 else {
            throw SecureFileError.untrusted(path: realPath(path) ?? path, uid: info.st_uid, mode: info.st_mode)
        }
    }

    /// Creates the new file `path` — never an existing one, never through a symlink (O_EXCL,
    /// O_NOFOLLOW) — with exactly `mode` whatever the umask, and writes `bytes` to it. A file
    /// that could not be written whole is removed again. For secrets: a 0600 file in a 0700
    /// directory (`ensurePrivateDirectory`).
    public static func createExclusiveFile(_ path: String, bytes: [UInt8], mode: mode_t = 0o600) throws {
        let descriptor = try retryingSystemCall("open", path: path) {
            open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        }
        do {
            defer { close(descriptor) }
            try retryingSystemCall("fchmod", path: path) { fchmod(descriptor, mode) }
            try FileDescriptorIO.writeAll(descriptor, bytes, path: path)
        } catch {
            unlink(path)
            throw error
        }
    }

    private static func realPath(_ path: String) -> String? { RealPath.resolve(path) }
}
