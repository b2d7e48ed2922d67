import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension LineLogHandler {
    /// The system log under the ident `smbvol` (facility daemon), one line per record with its
    /// metadata: the audit trail of every mount, unmount, close and refusal.
    ///
    /// smbvol speaks the local syslog protocol itself (RFC 3164 datagrams on a Unix socket)
    /// rather than calling syslog(3), so the socket is configurable (`syslog_socket`, default
    /// /dev/log) — and tests can read exactly what an auditor would. No socket, no log: never
    /// an error.
    public static func syslog(logLevel: Logger.Level = .info, destination: SyslogDestination = .shared) -> LineLogHandler {
        LineLogHandler(logLevel: logLevel) { level, line in
            destination.send(priority: syslogPriority(level), line: line)
        }
    }

    static func syslogPriority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: return LOG_DEBUG
        case .info: return LOG_INFO
        case .notice: return LOG_NOTICE
        case .warning: return LOG_WARNING
        case .error: return LOG_ERR
        case .critical: return LOG_CRIT
        }
    }
}

/// The syslog socket, opened on first use and shared by every handler of the process.
public final class SyslogDestination: Sendable {
    public static let shared = SyslogDestination()
    public static let defaultSocketPath = "/dev/log"

    private struct State {
        var path = SyslogDestination.defaultSocketPath
        var descriptor: Int32 = -1
    }

    private let state = Mutex(State())

    /// Points the log at another socket (configuration `syslog_socket`).
    public func use(socketPath: String) {
        state.withLock { state in
            guard state.path != socketPath else { return }
            if state.descriptor >= 0 { close(state.descriptor) }
            state.descriptor = -1
            state.path = socketPath
        }
    }

    func send(priority: Int32, line: String) {
        let message = "<\(LOG_DAEMON | priority)>\(Self.timestamp()) smbvol[\(getpid())]: \(line)"
        state.withLock { state in
            if state.descriptor < 0 { state.descriptor = Self.connect(to: state.path) }
            guard state.descriptor >= 0 else { return }
            let sent = message.withCString { Glibc.send(state.descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                // The daemon restarted or the socket went away: reconnect once and retry.
                close(state.descriptor)
                state.descriptor = Self.connect(to: state.path)
                if state.descriptor >= 0 {
                    _ = message.withCString { Glibc.send(state.descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                }
            }
        }
    }

    private static func connect(to path: String) -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return -1 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else {
            close(descriptor)
            return -1
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            return -1
        }
        return descriptor
    }

    /// RFC 3164 timestamp: `Nov 23 15:04:05`.
    private static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%b %e %H:%M:%S", &parts)
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
