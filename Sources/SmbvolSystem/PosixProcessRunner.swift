#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// glibc 2.34+ has it; the Swift Glibc module does not export the GNU-only declaration.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnFileActionsAddCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32

// GNU-only as well; pipe2 sets close-on-exec atomically, so a concurrent spawn on another
// thread cannot inherit the descriptors.
@_silgen_name("pipe2")
private func createPipe(_ ends: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

/// Runs a program with posix_spawn: stdin /dev/null, stdout and stderr into pipes, every other
/// descriptor closed in the child, signal mask and dispositions reset, the child in a process
/// group of its own. On timeout (or the caller's deadline) the whole group gets SIGTERM, then
/// SIGKILL after the grace period, and is reaped; leftovers of a child that exited normally
/// but left processes holding its pipes are killed too. Nothing outlives `run` by design.
public struct PosixProcessRunner: ProcessRunning {
    public let clock: any MonotonicClock
    /// Output beyond this many bytes per stream is read and discarded.
    public var outputLimit: Int

    public init(clock: any MonotonicClock = SystemClock(), outputLimit: Int = 64 * 1024) {
        self.clock = clock
        self.outputLimit = outputLimit
    }

    public func run(_ request: ProcessRequest, deadline: Deadline) throws -> ProcessOutcome {
        let bound = request.timeout.map { deadline.capped(at: $0, clock: clock) } ?? deadline
        if bound.hasExpired(clock: clock) { throw ProcessRunnerError.deadlineExpired(executable: request.executable) }

        let output = try Pipe()
        let errors = try Pipe()
        let pid = try spawn(request, output: output, errors: errors)
        output.closeWriteEnd()
        errors.closeWriteEnd()
        let slot = RunningChildProcesses.register(pid)
        defer { RunningChildProcesses.unregister(slot: slot) }

        var capture = OutputCapture(output: output, errors: errors, limit: outputLimit)
        var timedOut = false
        var exitSeen: MonotonicInstant?
        while true {
            if capture.finished && hasExited(pid) { break }
            if exitSeen == nil && hasExited(pid) { exitSeen = clock.now() }
            if let seen = exitSeen, clock.now() - seen > .milliseconds(200) {
                // The child is gone but something it started still holds the pipes.
                kill(-pid, SIGKILL)
                capture.drain(until: clock.now() + .seconds(1), clock: clock)
                break
            }
            if bound.hasExpired(clock: clock) {
                timedOut = true
                terminateGroup(pid, grace: request.terminationGrace)
                capture.drain(until: clock.now() + .milliseconds(500), clock: clock)
                break
            }
            let wait = min(bound.remaining(clock: clock) ?? .milliseconds(50), .milliseconds(50))
            if capture.finished {
                // Both pipes are at EOF and only the exit is awaited (it follows the close by
                // microseconds). poll(2) with no descriptor left would sleep its whole timeout:
                // 50 ms added to every child, the mount probe of each VM start included.
                clock.sleep(for: min(wait, .microseconds(200)))
            } else {
                capture.poll(timeoutMilliseconds: Int32(max(1, wait.nanosecondsClamped / 1_000_000)))
            }
        }
        capture.closeAll()
        let status = try reap(pid, executable: request.executable)
        return ProcessOutcome(
            termination: status, standardOutput: capture.text(of: 0), standardError: capture.text(of: 1), timedOut: timedOut)
    }

    private func spawn(_ request: ProcessRequest, output: Pipe, errors: Pipe) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output.writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, errors.writeEnd, 2)
        _ = spawnFileActionsAddCloseFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = CStringArray([request.executable] + request.arguments)
        let envp = CStringArray(request.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        var pid: pid_t = 0
        let code = posix_spawn(&pid, request.executable, &actions, &attributes, argv.pointers, envp.pointers)
        guard code == 0 else { throw ProcessRunnerError.spawnFailed(executable: request.executable, code: code) }
        return pid
    }

    /// Whether the child has exited, without reaping it: while it is unreaped its pid (which
    /// is also the group id) cannot be reused, so `kill(-pid)` never hits a stranger.
    private func hasExited(_ pid: Int32) -> Bool {
        var info = siginfo_t()
        let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        return result == 0 && info._sifields._sigchld.si_pid == pid
    }

    private func terminateGroup(_ pid: Int32, grace: Duration) {
        kill(-pid, SIGTERM)
        let giveUp = clock.now() + grace
        while clock.now() < giveUp && !hasExited(pid) { clock.sleep(for: .milliseconds(10)) }
        // Always SIGKILL the group: the leader may be gone while its children linger.
        kill(-pid, SIGKILL)
    }

    private func reap(_ pid: Int32, executable: String) throws -> ProcessOutcome.Termination {
        let giveUp = clock.now() + .seconds(5)
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result == -1 && errno != EINTR { return .exited(-1) }
            if clock.now() >= giveUp { throw ProcessRunnerError.childDidNotExit(executable: executable, pid: pid) }
            kill(-pid, SIGKILL)
            clock.sleep(for: .milliseconds(10))
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}

/// A pipe whose ends are close-on-exec (the child gets dup2'ed copies only).
final class Pipe {
    let readEnd: Int32
    private(set) var writeEnd: Int32

    init() throws {
        var ends: [Int32] = [-1, -1]
        try retryingSystemCall("pipe2") { createPipe(&ends, O_CLOEXEC) }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    func closeWriteEnd() {
        if writeEnd >= 0 { close(writeEnd) }
        writeEnd = -1
    }

    deinit { closeWriteEnd() }
}

/// NUL-terminated `char *[]` for posix_spawn, freed on deinit.
final class CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { pointers[index] = strdup(string) }
        pointers[strings.count] = nil
    }

    deinit {
        for index in 0..<count { free(pointers[index]) }
        pointers.deallocate()
    }
}
