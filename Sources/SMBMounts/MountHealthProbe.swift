import SmbvolShares
import SmbvolSystem

public enum MountHealth: Sendable, Equatable {
    case healthy
    /// The mount answers with an error that means the connection behind it is gone.
    case dead(errno: Int32)
    /// The mount did not answer within the probe's time: its server (or the client serving it)
    /// hangs. Anything that touches the mount point would block too.
    case hung(seconds: Double)
}

/// Tells a live mount from a dead or a hung one.
public protocol MountHealthProbing: Sendable {
    func health(of mountPoint: String) -> MountHealth
    /// The same, never running past `deadline`.
    func health(of mountPoint: String, deadline: Deadline) -> MountHealth
}

extension MountHealthProbing {
    public func health(of mountPoint: String, deadline: Deadline) -> MountHealth { health(of: mountPoint) }
}

/// Errors of a mount whose connection is gone (stat on a dead CIFS mount fails with EHOSTDOWN,
/// ESTALE, EIO or ENOTCONN; a FUSE mount whose client died with ENOTCONN).
public enum DeadMountErrors {
    public static let codes: Set<Int32> = [Errno.hostIsDown, Errno.staleFileHandle, Errno.inputOutput, Errno.notConnected]
}

/// Asks the mount in a child process that can be abandoned: `stat --file-system` (statfs(2),
/// which the filesystem must answer itself — attributes may come from a cache, file-system
/// statistics over SMB and FUSE do not). A mount that does not answer within `timeout` is
/// reported hung; the child, blocked in the kernel on the mount's behalf, is killed with its
/// process group (such waits are killable for CIFS and FUSE) and, should it not die, left
/// behind by the runner instead of blocking this process. Reading /proc/self/mountinfo never
/// blocks; touching the mount point does, which is why only the child ever does.
public struct ChildProcessMountHealthProbe: MountHealthProbing {
    public var runner: any ProcessRunning
    public var timeout: Duration
    public var statCommand: String

    public init(runner: any ProcessRunning = PosixProcessRunner(), timeout: Duration = .seconds(5), statCommand: String = "/usr/bin/stat") {
        self.runner = runner
        self.timeout = timeout
        self.statCommand = statCommand
    }

    public func health(of mountPoint: String) -> MountHealth {
        health(of: mountPoint, deadline: .none)
    }

    public func health(of mountPoint: String, deadline: Deadline) -> MountHealth {
        let request = ProcessRequest(
            executable: statCommand, arguments: ["--file-system", "--format=%t", "--", mountPoint], timeout: timeout,
            terminationGrace: .milliseconds(100))
        let outcome: ProcessOutcome
        do {
            outcome = try runner.run(request, deadline: deadline)
        } catch ProcessRunnerError.childDidNotExit {
            return .hung(seconds: timeout.secondsDouble)
        } catch {
            // No time left, or stat(1) cannot run: no evidence of a dead mount.
            return .healthy
        }
        if outcome.timedOut { return .hung(seconds: timeout.secondsDouble) }
        if outcome.succeeded { return .healthy }
        return Self.deadError(in: outcome.standardError).map { .dead(errno: $0) } ?? .healthy
    }

    /// stat(1) runs with LC_ALL=C, so its message ends with strerror's C-locale text.
    static func deadError(in text: String) -> Int32? {
        DeadMountErrors.codes.sorted().first { code in text.contains(Errno.message(for: code)) }
    }
}

/// Before anything in this process touches paths under mount points (resolving image paths
/// follows them): the shares whose mount points those paths lie under and that are mounted are
/// probed in a child, and a hung one stops the caller with a clear error instead of a process
/// stuck in the kernel.
public struct HungMountGuard: Sendable {
    public var probe: any MountHealthProbing
    public var mountTable: any MountTableReading

    public init(probe: any MountHealthProbing = ChildProcessMountHealthProbe(), mountTable: any MountTableReading = ProcMountTableReader()) {
        self.probe = probe
        self.mountTable = mountTable
    }

    /// Throws `MountCommandError.mountHung` for the first hung mount under which a path lies.
    /// Shares with no path under them, local shares and mount points with nothing mounted cost
    /// nothing (no child, no system call beyond one read of the mount table when needed).
    public func check(paths: [String], shares: [Share], deadline: Deadline) throws {
        let touched = shares.filter { share in
            !share.isLocal && paths.contains { $0 == share.mountPoint || $0.hasPrefix(share.mountPoint + "/") }
        }
        guard !touched.isEmpty else { return }
        let table = try MountTable.read(from: mountTable)
        // By the mount-state query's rule: under a symlinked mount_base the table lists the real path.
        for share in touched where ShareMountQuery.entry(at: share.mountPoint, in: table) != nil {
            if case .hung(let seconds) = probe.health(of: share.mountPoint, deadline: deadline) {
                throw MountCommandError.mountHung(share: share.name, mountPoint: share.mountPoint, seconds: seconds)
            }
        }
    }
}
