#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a file so that readers, and a crash at any instant, see either the old or the new
/// content, never a mix: write a temporary file in the same directory (O_EXCL|O_NOFOLLOW, the
/// final mode), fsync it, rename it over the target, fsync the directory.
///
/// Without `durable`, the two fsyncs are left out: readers still see the old or the new
/// content, but a power cut may lose the new one (or leave it torn). Only for a file a later
/// run rewrites anyway, written where a flush costs too much (the metrics textfile, within the
/// hook's budget).
public struct AtomicFileWriter: Sendable {
    /// Points inside a write where a test may want to kill the process (see `stageObserver`).
    public enum Stage: String, Sendable, CaseIterable {
        case afterTemporaryWrite = "after-temp-write"
        case afterRename = "after-rename"
    }

    /// Called at each stage. Production leaves it `nil`; crash tests install one that kills
    /// the process, to prove the store survives.
    public var stageObserver: (@Sendable (Stage) -> Void)?
    /// Whether the new content is flushed before and after the rename (see above).
    public var durable: Bool

    public init(durable: Bool = true, stageObserver: (@Sendable (Stage) -> Void)? = nil) {
        self.durable = durable
        self.stageObserver = stageObserver
    }

    /// The prefix of temporary files for `path`, so owners can sweep leftovers of killed writers.
    public static func temporaryPrefix(for path: String) -> String {
        let (directory, name) = splitPath(path)
        return directory + "/." + name + ".tmp-"
    }

    public func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        let (directory, _) = Self.splitPath(path)
        let temporary = Self.temporaryPrefix(for: path) + RandomIdentifier.hex(count: 12)
        let descriptor = try retryingSystemCall("open", path: temporary) {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(descriptor) }
            // The umask may have narrowed the mode given to open.
            try retryingSystemCall("fchmod", path: temporary) { fchmod(descriptor, mode) }
            try FileDescriptorIO.writeAll(descriptor, bytes, path: temporary)
            if durable { try retryingSystemCall("fsync", path: temporary) { fsync(descriptor) } }
        }
        stageObserver?(.afterTemporaryWrite)
        try retryingSystemCall("rename", path: path) { rename(temporary, path) }
        renamed = true
        stageObserver?(.afterRename)
        if durable { try Self.syncDirectory(directory) }
    }

    static func syncDirectory(_ directory: String) throws {
        let descriptor = try retryingSystemCall("open", path: directory) {
            open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        defer { close(descriptor) }
        try retryingSystemCall("fsync", path: directory) { fsync(descriptor) }
    }

    static func splitPath(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
