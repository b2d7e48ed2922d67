#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file of smbvol's own state opened for reading and rewriting in place (never through a
/// symlink, created when missing), closed when this goes away. For state rewritten under a
/// flock by the only program that reads it, where a rename-over costs more than the write.
public final class RewritableFile {
    public let path: String
    private let descriptor: Int32

    /// Opens `path` read-write (O_NOFOLLOW), creating it with `mode` when missing.
    public init(openingOrCreating path: String, mode: mode_t = 0o600) throws {
        descriptor = try retryingSystemCall("open", path: path) {
            open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode)
        }
        self.path = path
    }

    deinit { close(descriptor) }

    /// The whole content from the current position, at most `limit` bytes.
    public func readAll(limit: Int = Int.max) throws -> [UInt8] {
        try FileDescriptorIO.readAll(descriptor, limit: limit, path: path)
    }

    /// Writes `bytes` from offset 0 and cuts the file after them. Never truncated to zero first:
    /// a torn write leaves old and new bytes, which the reader must recognise as corrupt.
    public func overwrite(with bytes: [UInt8]) throws {
        try FileDescriptorIO.writeAll(descriptor, bytes, atOffset: 0, path: path)
        _ = try retryingSystemCall("ftruncate", path: path) { ftruncate(descriptor, off_t(bytes.count)) }
    }
}
