#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Local datagram sockets (AF_UNIX, SOCK_DGRAM) as the system log and the journal take them.
/// Descriptors are plain `Int32`s the caller keeps (under its own lock) and closes with `close`.
public enum UnixDatagramSocket {
    /// The outcome of one datagram.
    public enum Delivery: Sendable, Equatable {
        case sent
        /// The datagram is larger than the socket takes (EMSGSIZE, ENOBUFS).
        case tooLarge
        case failed
    }

    /// A new unconnected socket; -1 when none could be made.
    public static func open() -> Int32 {
        socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    /// A new socket connected to `path`; -1 when that fails (no listener, a path too long).
    public static func connected(to path: String) -> Int32 {
        let descriptor = open()
        guard descriptor >= 0 else { return -1 }
        guard var address = address(path) else {
            close(descriptor)
            return -1
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            return -1
        }
        return descriptor
    }

    public static func close(_ descriptor: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }

    /// Sends `text` on a connected socket (MSG_NOSIGNAL); false when it failed.
    public static func send(_ text: String, on descriptor: Int32) -> Bool {
        let sent = text.withCString {
            #if canImport(Glibc)
            Glibc.send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL))
            #else
            Darwin.send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL))
            #endif
        }
        return sent >= 0
    }

    /// Sends `payload` to the socket at `path` (sendto, MSG_NOSIGNAL).
    public static func send(_ payload: [UInt8], on descriptor: Int32, to path: String) -> Delivery {
        guard var address = address(path) else { return .failed }
        let sent = payload.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        if sent >= 0 { return .sent }
        return errno == EMSGSIZE || errno == ENOBUFS ? .tooLarge : .failed
    }

    /// Sends `payload` to the socket at `path` as journald takes an entry too large for one
    /// datagram (as sd_journal_send does): written to a sealed memfd whose descriptor is passed
    /// alone, with no data, in SCM_RIGHTS. False when any step fails.
    public static func sendAsSealedMemoryFile(_ payload: [UInt8], on descriptor: Int32, to path: String, name: String) -> Bool {
        guard var address = address(path), let memfdCreate = memfdCreate() else { return false }
        let memfd = memfdCreate(name, memfdCloexec | memfdAllowSealing)
        guard memfd >= 0 else { return false }
        defer { close(memfd) }
        guard (try? FileDescriptorIO.writeAll(memfd, payload)) != nil else { return false }
        guard fcntl(memfd, addSeals, allSeals) == 0 else { return false }

        // cmsghdr + one int, padded to the header's alignment (CMSG_SPACE(sizeof(int))).
        let headerSize = MemoryLayout<cmsghdr>.size
        let align = MemoryLayout<Int>.size
        let space = headerSize + ((MemoryLayout<Int32>.size + align - 1) / align) * align
        var control = [UInt8](repeating: 0, count: space)
        control.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            var header = cmsghdr()
            header.cmsg_len = headerSize + MemoryLayout<Int32>.size
            header.cmsg_level = SOL_SOCKET
            header.cmsg_type = Int32(SCM_RIGHTS)
            base.storeBytes(of: header, as: cmsghdr.self)
            base.storeBytes(of: memfd, toByteOffset: headerSize, as: Int32.self)
        }
        return control.withUnsafeMutableBytes { controlBuffer -> Bool in
            withUnsafeMutablePointer(to: &address) { addressPointer -> Bool in
                var message = msghdr()
                message.msg_name = UnsafeMutableRawPointer(addressPointer)
                message.msg_namelen = socklen_t(MemoryLayout<sockaddr_un>.size)
                message.msg_control = controlBuffer.baseAddress
                message.msg_controllen = controlBuffer.count
                return sendmsg(descriptor, &message, Int32(MSG_NOSIGNAL)) >= 0
            }
        }
    }

    private static func address(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        return address
    }

    // memfd_create is not in Swift's Glibc module: looked up in libc (glibc ≥ 2.27), which the
    // program links anyway.
    private typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
    private static func memfdCreate() -> MemfdCreate? {
        try? DynamicLibrary.runningProgram?.symbol(named: "memfd_create", as: MemfdCreate.self)
    }

    private static let memfdCloexec: UInt32 = 0x1, memfdAllowSealing: UInt32 = 0x2
    private static let addSeals: Int32 = 1033  // F_ADD_SEALS
    private static let allSeals: Int32 = 0x1 | 0x2 | 0x4 | 0x8  // SEAL, SHRINK, GROW, WRITE
}

/// The local time as syslog lines carry it.
public enum LocalTime {
    /// RFC 3164 timestamp of now, in the local time zone: `Nov 23 15:04:05`.
    public static func syslogTimestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%b %e %H:%M:%S", &parts)
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
