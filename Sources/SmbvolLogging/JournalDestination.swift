import SmbvolSystem
import Synchronization

/// systemd-journald's native socket (`journal_socket`, default /run/systemd/journal/socket).
/// When it exists, log records go there as structured entries instead of syslog lines (journald
/// would otherwise get each line twice: /dev/log is its socket too).
///
/// An entry too large for one datagram is written to a sealed memfd whose descriptor is passed
/// with SCM_RIGHTS, as sd_journal_send does (`UnixDatagramSocket.sendAsSealedMemoryFile`). A
/// send that fails returns false: the caller falls back to syslog for that record, so no audit
/// event is lost.
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
            (try? FileStatus.of(path))?.kind == .socket ? path : nil
        }
        state.withLock { state in
            guard state.path != usable else { return }
            if state.descriptor >= 0 { UnixDatagramSocket.close(state.descriptor) }
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
            if state.descriptor < 0 { state.descriptor = UnixDatagramSocket.open() }
            guard state.descriptor >= 0 else { return false }
            switch UnixDatagramSocket.send(payload, on: state.descriptor, to: path) {
            case .sent: return true
            case .failed: return false
            case .tooLarge:
                return UnixDatagramSocket.sendAsSealedMemoryFile(payload, on: state.descriptor, to: path, name: "smbvol-journal")
            }
        }
    }
}
