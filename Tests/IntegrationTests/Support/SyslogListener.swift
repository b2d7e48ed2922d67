import Foundation
import Synchronization

/// A Unix datagram socket standing in for /dev/log: point smbvol's `syslog_socket` at `path`
/// and read back exactly the audit lines an operator's syslog would get.
final class SyslogListener: Sendable {
    let path: String
    private let descriptor: Int32
    private final class Received: Sendable {
        let lines = Mutex<[String]>([])
        /// Set by deinit; the reader thread then closes the socket itself, so the descriptor
        /// number is never reused under a thread still reading it.
        let stopped = Atomic<Bool>(false)
    }

    private let received = Received()

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syslog-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/log"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw SimulatorProcess.Failure(description: "cannot bind \(path): errno \(errno)") }
        chmod(path, 0o666)
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let socketDescriptor = descriptor
        let received = self.received
        let socketPath = path
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            defer {
                close(socketDescriptor)
                unlink(socketPath)
            }
            while !received.stopped.load(ordering: .sequentiallyConsistent) {
                let count = recv(socketDescriptor, &buffer, buffer.count, 0)
                if count > 0 {
                    let line = String(decoding: buffer[0..<count], as: UTF8.self)
                    received.lines.withLock { $0.append(line) }
                } else if count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    return
                }
            }
        }
    }

    deinit {
        received.stopped.store(true, ordering: .sequentiallyConsistent)
    }

    /// Every line received so far (after a short grace period for datagrams in flight).
    var lines: [String] {
        usleep(100_000)
        return received.lines.withLock { $0 }
    }
}
