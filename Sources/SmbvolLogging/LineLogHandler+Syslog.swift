import Logging
import Synchronization
import SmbvolSystem

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

    /// RFC 3164 severities (syslog.h's LOG_DEBUG … LOG_CRIT).
    static func syslogPriority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// RFC 3164 facility `daemon` (syslog.h's LOG_DAEMON), already shifted into place.
    static let daemonFacility: Int32 = 3 << 3
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
            if state.descriptor >= 0 { UnixDatagramSocket.close(state.descriptor) }
            state.descriptor = -1
            state.path = socketPath
        }
    }

    func send(priority: Int32, line: String) {
        let message = "<\(LineLogHandler.daemonFacility | priority)>\(LocalTime.syslogTimestamp()) smbvol[\(ProcessControl.processID)]: \(line)"
        state.withLock { state in
            if state.descriptor < 0 { state.descriptor = UnixDatagramSocket.connected(to: state.path) }
            guard state.descriptor >= 0 else { return }
            if !UnixDatagramSocket.send(message, on: state.descriptor) {
                // The daemon restarted or the socket went away: reconnect once and retry.
                UnixDatagramSocket.close(state.descriptor)
                state.descriptor = UnixDatagramSocket.connected(to: state.path)
                if state.descriptor >= 0 {
                    _ = UnixDatagramSocket.send(message, on: state.descriptor)
                }
            }
        }
    }
}
