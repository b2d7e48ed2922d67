import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A stand-in for journald's native socket: receives the datagrams (and memfd descriptors
/// passed with SCM_RIGHTS) smbvol sends, and decodes each into its fields, exactly as the
/// protocol defines them (NAME=value\n, or NAME\n + 64-bit LE length + data + \n).
final class JournalListener: Sendable {
    struct Entry: Sendable, CustomStringConvertible {
        let fields: [String: [UInt8]]
        /// Whether it arrived as a memfd rather than in the datagram.
        let viaMemfd: Bool

        subscript(name: String) -> String? { fields[name].map { String(decoding: $0, as: UTF8.self) } }
        var description: String { fields.keys.sorted().map { "\($0)=\(self[$0] ?? "")" }.joined(separator: " | ") }
    }

    let path: String
    private let received = Received()

    private let descriptor: Int32

    private final class Received: Sendable {
        let entries = Mutex<[Entry]>([])
        let malformed = Mutex<[String]>([])
        let stopped = Atomic<Bool>(false)

        /// Every datagram queued on the socket, in order (under the entries' lock: the reader
        /// thread and `entries` both drain, and neither may append out of turn).
        func drain(_ descriptor: Int32) {
            entries.withLock { entries in
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                var control = [UInt8](repeating: 0, count: 256)
                while true {
                    let count = buffer.withUnsafeMutableBytes { data in
                        control.withUnsafeMutableBytes { controlBytes in
                            var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                            return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                                var message = msghdr()
                                message.msg_iov = vectorPointer
                                message.msg_iovlen = 1
                                message.msg_control = controlBytes.baseAddress
                                message.msg_controllen = controlBytes.count
                                let count = recvmsg(descriptor, &message, Int32(MSG_DONTWAIT))
                                return (count, message.msg_controllen)
                            }
                        }
                    }
                    if count.0 < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    var payload = Array(buffer[0..<count.0])
                    var viaMemfd = false
                    if count.0 == 0 && count.1 >= MemoryLayout<cmsghdr>.size + 4 {
                        let passed = control.withUnsafeBytes { $0.load(fromByteOffset: MemoryLayout<cmsghdr>.size, as: Int32.self) }
                        payload = JournalListener.readAll(passed)
                        close(passed)
                        viaMemfd = true
                    }
                    if let fields = JournalListener.decode(payload) {
                        entries.append(Entry(fields: fields, viaMemfd: viaMemfd))
                    } else {
                        malformed.withLock { $0.append(String(decoding: payload.prefix(200), as: UTF8.self)) }
                    }
                }
            }
        }
    }

    init() throws {
        let directory = NSTemporaryDirectory() + "journal-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/socket"
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        self.descriptor = descriptor
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
        var size: Int32 = 4 * 1024 * 1024
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let received = self.received
        let socketPath = path
        // Reads whatever arrives meanwhile, so a chatty sender never fills the socket's queue;
        // `entries` drains the queue itself, so it needs no grace period.
        Thread.detachNewThread {
            defer {
                close(descriptor)
                unlink(socketPath)
            }
            while !received.stopped.load(ordering: .sequentiallyConsistent) {
                var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 200) >= 0 || errno == EINTR else { return }
                received.drain(descriptor)
            }
        }
    }

    deinit { received.stopped.store(true, ordering: .sequentiallyConsistent) }

    /// Every entry so far. A datagram is queued on the socket by the time the sender's
    /// sendmsg(2) returns: once a smbvol process has ended, all its entries are here.
    var entries: [Entry] {
        received.drain(descriptor)
        return received.entries.withLock { $0 }
    }

    var malformed: [String] {
        received.drain(descriptor)
        return received.malformed.withLock { $0 }
    }

    /// Entries of one audit event kind.
    func events(_ kind: String) -> [Entry] { entries.filter { $0["SMBVOL_EVENT"] == kind } }

    private static func readAll(_ descriptor: Int32) -> [UInt8] {
        lseek(descriptor, 0, SEEK_SET)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count <= 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    /// The protocol's decoder; nil for anything that does not follow it.
    static func decode(_ bytes: [UInt8]) -> [String: [UInt8]]? {
        var fields: [String: [UInt8]] = [:]
        var index = 0
        while index < bytes.count {
            guard let end = bytes[index...].firstIndex(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "=") }) else { return nil }
            let name = String(decoding: bytes[index..<end], as: UTF8.self)
            guard !name.isEmpty, name.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) else { return nil }
            if bytes[end] == UInt8(ascii: "=") {
                guard let newline = bytes[(end + 1)...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                fields[name] = Array(bytes[(end + 1)..<newline])
                index = newline + 1
            } else {
                guard end + 9 <= bytes.count else { return nil }
                var length: UInt64 = 0
                for (shift, byte) in bytes[(end + 1)..<(end + 9)].enumerated() { length |= UInt64(byte) << (8 * UInt64(shift)) }
                let start = end + 9
                guard start + Int(length) < bytes.count, bytes[start + Int(length)] == UInt8(ascii: "\n") else { return nil }
                fields[name] = Array(bytes[start..<(start + Int(length))])
                index = start + Int(length) + 1
            }
            if fields.count > 1000 { return nil }
        }
        return fields
    }
}
