import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// The bounds every operator command runs under: an overall deadline, and a size cap on every
/// file it reads. Without them `handles list` against a cluster handing out endless `next`
/// links, or `check --xml /dev/zero`, ran (and grew) forever.
enum CommandBounds {
    /// Long-running services that must not be cut off (`heartbeat --every`), and the hook,
    /// which has its own deadline (`deadline_seconds`).
    static let unbounded: Set<String> = ["heartbeat", "hook"]

    /// Arms the process-wide watchdog at `command_deadline_seconds`: when it passes, children
    /// are killed and the command exits 1 with one line saying so. Blocking steps below carry
    /// their own deadlines and normally unwind first.
    static func armCommandDeadline(_ configuration: SmbvolConfiguration, arguments: [String] = CommandLine.arguments) {
        guard let command = arguments.dropFirst().first(where: { !$0.hasPrefix("-") }), !unbounded.contains(command) else { return }
        let seconds = configuration.commandDeadlineSeconds
        DeadlineWatchdog.arm(
            after: seconds, exitStatus: 1,
            message: "smbvol: error: \(oneLine(command)) did not finish within command_deadline_seconds = \(seconds); stopped (child processes killed)")
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
