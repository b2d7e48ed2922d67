import Foundation
import Synchronization

/// A Unix datagram socket standing in for /dev/log: point smbvol's `syslog_socket` at `path`
/// and read back exactly the audit lines an operator's syslog would get.
final class SyslogListener: Sendable {
    let path: String
    private let descriptor: Int32
    private final class Received: Sendable {
        let lines = Mutex<[String]>([])

        /// Every datagram queued on the socket, in order (under the lock: the reader thread
        /// and `lines` both drain, and neither may append out of turn).
        func drain(_ descriptor: Int32) {
            lines.withLock { lines in
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    if count < 0 && errno == EINTR { continue }
                    guard count >= 0 else { return }
                    if count == 0 { continue }  // an empty datagram: no line
                    lines.append(String(decoding: buffer[0..<count], as: UTF8.self))
                }
            }
        }
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
        let socketDescriptor = descriptor
        let received = self.received
        let socketPath = path
        // Reads whatever arrives meanwhile, so a chatty sender never fills the socket's queue;
        // `lines` drains the queue itself, so it needs no grace period.
        Thread.detachNewThread {
            defer {
                close(socketDescriptor)
                unlink(socketPath)
            }
            while !received.stopped.load(ordering: .sequentiallyConsistent) {
                var ready = pollfd(fd: socketDescriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 200) >= 0 || errno == EINTR else { return }
                received.drain(socketDescriptor)
            }
        }
    }

    deinit {
        received.stopped.store(true, ordering: .sequentiallyConsistent)
    }

    /// Every line received so far. A datagram is queued on the socket by the time the sender's
    /// send(2) returns: once a smbvol process has ended, all its lines are here.
    var lines: [String] {
        received.drain(descriptor)
        return received.lines.withLock { $0 }
    }
}
