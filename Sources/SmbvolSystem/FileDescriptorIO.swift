#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// More input than the reader accepts: a file (or stream) past its size limit, or a directory
/// with more entries than the caller will look at. Callers turn it into their own message.
public struct InputLimitExceeded: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Unit: String, Sendable { case bytes, entries }

    /// What was being read; nil for an anonymous descriptor (stdin, a pipe).
    public let path: String?
    public let limit: Int
    public let unit: Unit

    public init(path: String?, limit: Int, unit: Unit) {
        self.path = path
        self.limit = limit
        self.unit = unit
    }

    public var description: String { "\(path ?? "input") holds more than \(limit) \(unit.rawValue)" }
}

/// read(2) and write(2) loops over a file descriptor, in one place: EINTR is retried, a short
/// write continues where it stopped, a descriptor someone left non-blocking is waited on with
/// poll(2) instead of failing with EAGAIN, and a failure is a `SystemCallError` naming the call,
/// the path (when given) and errno.
public enum FileDescriptorIO {
    /// Bytes asked of one read(2): large enough that a 10 MB domain XML takes ~150 calls.
    public static let chunkSize = 65536

    /// One read(2) of at most `maximumCount` bytes, retried on EINTR; empty at end of file.
    /// EAGAIN is thrown as it is: a caller reading with poll(2) decides what it means.
    public static func readSome(_ descriptor: Int32, maximumCount: Int = chunkSize, path: String? = nil) throws(SystemCallError) -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: max(0, maximumCount))
        let count = try readChunk(descriptor, into: &chunk, count: chunk.count, path: path, waiting: false)
        chunk.removeLast(chunk.count - count)
        return chunk
    }

    /// Reads until end of file or until `count` bytes arrived, whichever comes first.
    public static func read(_ descriptor: Int32, upTo count: Int, path: String? = nil) throws(SystemCallError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(max(0, count), chunkSize))
        while result.count < count {
            let got = try readChunk(descriptor, into: &chunk, count: min(chunk.count, count - result.count), path: path)
            if got == 0 { break }
            result.append(contentsOf: chunk[0..<got])
        }
        return result
    }

    /// The whole rest of the stream, but never more than `limit` bytes: one byte past it (a
    /// bigger or endless input, like /dev/zero) throws `InputLimitExceeded` instead of reading
    /// until memory runs out.
    public static func readAll(_ descriptor: Int32, limit: Int, path: String? = nil) throws -> [UInt8] {
        let bytes = try read(descriptor, upTo: limit == Int.max ? limit : limit + 1, path: path)
        if bytes.count > limit { throw InputLimitExceeded(path: path, limit: limit, unit: .bytes) }
        return bytes
    }

    /// Writes every byte (at `offset` with pwrite(2) when given, else at the file position).
    /// A write that makes no progress is EIO: the loop would otherwise spin forever.
    public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], atOffset offset: Int? = nil, path: String? = nil) throws(SystemCallError) {
        let call = offset == nil ? "write" : "pwrite"
        // Array.withUnsafeBytes cannot throw a typed error: the failure comes out as a value.
        let failure = bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> SystemCallError? in
            guard let base = buffer.baseAddress else { return nil }
            var done = 0
            while done < buffer.count {
                let written: Int
                if let offset {
                    written = Glibc.pwrite(descriptor, base + done, buffer.count - done, off_t(offset + done))
                } else {
                    written = Glibc.write(descriptor, base + done, buffer.count - done)
                }
                if written > 0 {
                    done += written
                } else if written == 0 {
                    return SystemCallError(call: call, path: path, code: EIO)
                } else if errno == EINTR {
                    continue
                } else if errno == EAGAIN || errno == EWOULDBLOCK {
                    do throws(SystemCallError) {
                        try waitUntilReady(descriptor, for: Int16(POLLOUT), path: path)
                    } catch {
                        return error
                    }
                } else {
                    return SystemCallError.current(call, path: path)
                }
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// The whole file at `path`, at most `limit` bytes (works for /proc files, whose size
    /// reads as 0). Throws `SystemCallError` (open, read) or `InputLimitExceeded`.
    public static func readFile(path: String, limit: Int) throws -> [UInt8] {
        let descriptor = try retryingSystemCall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(descriptor) }
        return try readAll(descriptor, limit: limit, path: path)
    }

    /// The whole regular file at `path`, at most `limit` bytes. A FIFO, a device or a socket
    /// is refused before any read (opening is non-blocking, so a FIFO without a writer cannot
    /// stall the caller): throws `SystemCallError` with call `fstat` and `EINVAL` for them.
    public static func readRegularFile(path: String, limit: Int) throws -> [UInt8] {
        let descriptor = try retryingSystemCall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
        defer { close(descriptor) }
        var status = stat()
        try retryingSystemCall("fstat", path: path) { fstat(descriptor, &status) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw NotARegularFile(path: path) }
        return try readAll(descriptor, limit: limit, path: path)
    }

    /// Reads into `chunk[0..<count]`, retrying EINTR and waiting out EAGAIN when `waiting`.
    private static func readChunk(_ descriptor: Int32, into chunk: inout [UInt8], count: Int, path: String?, waiting: Bool = true) throws(SystemCallError) -> Int {
        while true {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, count) }
            if got >= 0 { return got }
            let code = errno
            if code == EINTR { continue }
            if waiting && (code == EAGAIN || code == EWOULDBLOCK) {
                try waitUntilReady(descriptor, for: Int16(POLLIN), path: path)
                continue
            }
            throw SystemCallError(call: "read", path: path, code: code)
        }
    }

    private static func waitUntilReady(_ descriptor: Int32, for events: Int16, path: String?) throws(SystemCallError) {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        while Glibc.poll(&entry, 1, -1) < 0 {
            if errno != EINTR { throw SystemCallError.current("poll", path: path) }
        }
    }
}

/// The whole file, however large (the caller trusts its size: /proc, smbvol's own state).
/// Input from outside goes through `FileDescriptorIO.readFile(path:limit:)`.
public func readWholeFile(_ path: String) throws -> [UInt8] {
    try FileDescriptorIO.readFile(path: path, limit: Int.max)
}

/// A path that names a FIFO, a device, a socket or a directory where a regular file belongs.
public struct NotARegularFile: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public var description: String { "\(path) is not a regular file (a FIFO, device or directory)" }
}
