import ArgumentParser
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem
import Synchronization

/// The bounds every operator command runs under: an overall deadline, and a size cap on every
/// file it reads. Without them `handles list` against a cluster handing out endless `next`
/// links, or `check --xml /dev/zero`, ran (and grew) forever.
enum CommandBounds {
    /// Which deadline a command owns.
    enum Deadline: Sendable {
        /// `command_deadline_seconds`: every operator command unless it says otherwise.
        case command
        /// `deadline_seconds`, the start's own (`attach`: a hot-attach is a start).
        case start
        /// Long-running services that must not be cut off (`heartbeat --every`), and those that
        /// arm their own (the hook, `deadline_seconds` from its first instruction).
        case none
    }

    private static let owned = Mutex<(deadline: Deadline, command: String)?>(nil)

    /// The one place the watchdog is armed for an operator command: by the entry point, once
    /// the command line is parsed and before anything is read, with the default of the deadline
    /// the command owns. When it passes, children are killed and the command exits 1 with one
    /// line saying so; blocking steps below carry their own deadlines and normally unwind first.
    static func arm(for command: any ParsableCommand, arguments: [String] = CommandLine.arguments) {
        let deadline = (command as? any OwnsDeadline).map { type(of: $0).deadline } ?? .command
        let name = arguments.dropFirst().first { !$0.hasPrefix("-") } ?? "smbvol"
        owned.withLock { $0 = (deadline, name) }
        let defaults = SmbvolConfiguration()
        switch deadline {
        case .command:
            DeadlineWatchdog.arm(after: defaults.commandDeadlineSeconds, exitStatus: 1, message: message(name, "the default command_deadline_seconds", defaults.commandDeadlineSeconds))
        case .start:
            DeadlineWatchdog.arm(after: defaults.deadlineSeconds + 0.5, exitStatus: 1, message: message(name, "the default deadline_seconds", defaults.deadlineSeconds))
        case .none: break
        }
    }

    /// The configured value of the deadline the command owns, once its configuration is read:
    /// measured from when the entry point armed the watchdog. Never arms one.
    static func adopt(_ configuration: SmbvolConfiguration) {
        guard let owned = owned.withLock({ $0 }) else { return }
        let name = owned.command
        switch owned.deadline {
        case .command:
            let seconds = configuration.commandDeadlineSeconds
            DeadlineWatchdog.setDeadline(secondsAfterArming: seconds, message: message(name, "command_deadline_seconds", seconds))
        case .start:
            let seconds = configuration.deadlineSeconds
            DeadlineWatchdog.setDeadline(secondsAfterArming: seconds + 0.5, message: message(name, "deadline_seconds", seconds))
        case .none: break
        }
    }

    private static func message(_ command: String, _ source: String, _ seconds: Double) -> String {
        "smbvol: error: \(oneLine(command)) did not finish within \(source) = \(seconds); stopped (child processes killed)"
    }

    /// Largest domain XML read (as the hook reads from stdin).
    static let domainXMLLimit = 64 * 1024 * 1024
    /// Largest connection-info JSON read.
    static let connectionInfoLimit = 1024 * 1024

    struct InputTooLarge: Error, CustomStringConvertible {
        var path: String
        var what: String
        var limit: Int
        var description: String {
            "\(path): the \(what) is larger than \(limit / 1024) KiB (or endless, like /dev/zero); refusing to read it"
        }
    }

    /// The whole file, but never more than `limit` bytes: a bigger (or endless) input is an
    /// error naming it, not a process that reads until memory runs out.
    static func read(_ path: String, what: String, limit: Int) throws -> [UInt8] {
        do {
            return try FileDescriptorIO.readFile(path: path, limit: limit)
        } catch is InputLimitExceeded {
            throw InputTooLarge(path: path, what: what, limit: limit)
        }
    }
}

/// A command whose deadline is not `command_deadline_seconds` (see `CommandBounds.Deadline`).
protocol OwnsDeadline: ParsableCommand {
    static var deadline: CommandBounds.Deadline { get }
}
