import SmbvolSystem
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// systemd-journald's native socket (`journal_socket`, default /run/systemd/journal/socket).
/// When it exists, log records go there as structured entries instead of syslog lines (journald
/// would otherwise get each line twice: /dev/log is its socket too).
///
/// An entry too large for one datagram is written to a sealed memfd whose descriptor is passed
/// with SCM_RIGHTS, as sd_journal_send does. A send that fails returns false: the caller falls
/// back to syslog for that record, so no audit event is lost.
public final class JournalDestination: Sendable {
    public static let shared = JournalDestination()
    public static let defaultSocketPath = "/run/systemd/journal/socket"

    private struct State {
        var path: String?
        var descriptor: Int32 = -1
    }

    private let state = Mutex(State())

    public init() {}

    /// Points the journal at `socketPath` when it is a socket; nil (or no socket there): off.
    public func use(socketPath: String?) {
        let usable = socketPath.flatMap { path -> String? in
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & mode_t(S_IFMT)) == mode_t(S_IFSOCK) else { return nil }
            return path
        }
        state.withLock { state in
            guard state.path != usable else { return }
            if state.descriptor >= 0 { close(state.descriptor) }
            state.descriptor = -1
            state.path = usable
        }
    }

    public var isEnabled: Bool { state.withLock { $0.path != nil } }

    /// Sends one entry; false when it could not be delivered.
    public func send(_ entry: JournalEntry) -> Bool {
        let payload = entry.serialized
        return state.withLock { state -> Bool in
            guard let path = state.path else { return false }
            if state.descriptor < 0 {
                state.descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            }
            guard state.descriptor >= 0 else { return false }
            guard var address = Self.address(path) else { return false }
            let sent = payload.withUnsafeBytes { buffer in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(state.descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
            }
            if sent >= 0 { return true }
            guard errno == EMSGSIZE || errno == ENOBUFS else { return false }
            return Self.sendViaMemfd(payload, descriptor: state.descriptor, address: &address)
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

    /// journald accepts a large entry as a sealed memfd passed alone (no data) with SCM_RIGHTS.
    private static func sendViaMemfd(_ payload: [UInt8], descriptor: Int32, address: inout sockaddr_un) -> Bool {
        guard let memfdCreate = memfdCreate() else { return false }
        let memfd = memfdCreate("smbvol-journal", memfdCloexec | memfdAllowSealing)
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
}
