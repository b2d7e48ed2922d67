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

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
