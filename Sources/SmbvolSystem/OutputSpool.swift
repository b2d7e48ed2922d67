#if canImport(Glibc)
import Glibc
#endif

/// Output held back until a command knows it succeeded: a temporary file in `$TMPDIR` (default
/// /tmp), unlinked as soon as it is created, so it is gone when closed or the process dies. A listing that fails
/// half-way then prints nothing, instead of half a document; one that succeeds is copied out
/// whole. On disk, not in memory: a cluster-wide listing runs to tens of megabytes, and the
/// listing itself is bounded to a read-ahead of pages.
public final class OutputSpool {
    public let descriptor: Int32
    /// The first write that failed (a full disk): `copy(to:)` then refuses to print a part.
    private var failure: SystemCallError?

    public init(directory: String? = nil) throws(SystemCallError) {
        let directory = directory ?? Self.temporaryDirectory()
        var template = Array((directory + "/smbvol-output.XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
        guard descriptor >= 0 else { throw SystemCallError.current("mkstemp", path: directory) }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        // Named for an instant only (mode 0600): unlinked at once, it goes with the descriptor.
        _ = template.withUnsafeBufferPointer { $0.baseAddress.map { unlink($0) } }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    public func append(_ bytes: [UInt8]) {
        guard failure == nil, !bytes.isEmpty else { return }
        do throws(SystemCallError) {
            try FileDescriptorIO.writeAll(descriptor, bytes, path: "output spool")
        } catch {
            failure = error
        }
    }

    /// Everything appended, from the start, chunk by chunk to `body` until it returns false.
    /// Throws when a write to the spool failed earlier or reading it back fails: the caller
    /// must not present what it got as the whole output.
    public func replay(_ body: ([UInt8]) -> Bool) throws(SystemCallError) {
        if let failure { throw failure }
        var offset: off_t = 0
        var chunk = [UInt8](repeating: 0, count: FileDescriptorIO.chunkSize)
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemCallError.current("pread", path: "output spool")
            }
            if count == 0 { return }
            guard body(Array(chunk[0..<count])) else { return }
            offset += off_t(count)
        }
    }

    private static func temporaryDirectory() -> String {
        if let value = getenv("TMPDIR"), value.pointee != 0 { return String(cString: value) }
        return "/tmp"
    }
}
