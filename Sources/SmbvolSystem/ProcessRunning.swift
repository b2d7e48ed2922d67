/// One program to run: explicit argv and environment (nothing inherited, nothing secret —
/// both are visible in /proc to every local user), stdin from /dev/null, output captured.
public struct ProcessRequest: Sendable, Equatable {
    public var executable: String
    /// argv[1...]; argv[0] is `executable`.
    public var arguments: [String]
    public var environment: [String: String]
    /// Killed after this long (never later than the caller's deadline).
    public var timeout: Duration?
    /// Time between SIGTERM and SIGKILL when the run is cut short.
    public var terminationGrace: Duration

    public init(
        executable: String, arguments: [String], environment: [String: String] = ProcessRequest.minimalEnvironment,
        timeout: Duration? = nil, terminationGrace: Duration = .seconds(1)
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
        self.terminationGrace = terminationGrace
    }

    /// What system programs need and nothing more (libvirt gives hooks little more than this).
    public static let minimalEnvironment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"]
}

public struct ProcessOutcome: Sendable, Equatable {
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    public var termination: Termination
    public var standardOutput: String
    public var standardError: String
    /// The run hit its timeout or the caller's deadline and was killed.
    public var timedOut: Bool

    public init(termination: Termination, standardOutput: String = "", standardError: String = "", timedOut: Bool = false) {
        self.termination = termination
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.timedOut = timedOut
    }

    public var succeeded: Bool { termination == .exited(0) && !timedOut }

    /// The first non-empty line of stderr (else stdout), for one-line error messages.
    public var firstDiagnosticLine: String {
        for text in [standardError, standardOutput] {
            if let line = text.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters() }).first(where: { !$0.isEmpty }) {
                return line
            }
        }
        return ""
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}

/// Runs programs. `PosixProcessRunner` in production; tests record requests and script outcomes.
public protocol ProcessRunning: Sendable {
    func run(_ request: ProcessRequest, deadline: Deadline) throws -> ProcessOutcome
}

public enum ProcessRunnerError: Error, Equatable, Sendable, CustomStringConvertible {
    case spawnFailed(executable: String, code: Int32)
    case deadlineExpired(executable: String)
    case childDidNotExit(executable: String, pid: Int32)

    public var description: String {
        switch self {
        case .spawnFailed(let executable, let code):
            return "cannot run \(executable): \(SystemCallError(call: "posix_spawn", code: code).reason.lowercased()) "
                + "(errno \(code)); check the path in the configuration"
        case .deadlineExpired(let executable):
            return "no time left to run \(executable): the overall deadline has passed"
        case .childDidNotExit(let executable, let pid):
            return "\(executable) (pid \(pid)) did not exit after SIGKILL (stuck in the kernel); it was left behind"
        }
    }
}
