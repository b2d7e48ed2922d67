import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The hook's last line of defence against hanging: a thread that, if the process is still
/// alive `grace` after its deadline, kills every running child process group, writes one line to
/// stderr and exits with `exitStatus` — without unwinding, taking no lock, allocating nothing
/// after it was armed.
///
/// The normal path never gets here: every blocking step below the hook (HTTP, flock waits, the
/// mount program) is bounded by the same deadline and unwinds by itself, releasing what the run
/// took. The watchdog only catches what would otherwise hang libvirt's worker forever.
public enum DeadlineWatchdog {
    private static let armed = Atomic<Bool>(false)
    /// Read by the watchdog thread when it fires: the caller moves it as its run passes points
    /// after which giving up means something else (a prepare reports success only once its
    /// mount and locks are recorded).
    fileprivate static let exitStatus = Atomic<Int32>(1)
    /// When it fires, in CLOCK_MONOTONIC nanoseconds; moved by `setDeadline`.
    fileprivate static let deadline = Atomic<Int64>(Int64.max)
    /// When it was armed, in CLOCK_MONOTONIC nanoseconds: deadlines are measured from here.
    fileprivate static let armedAt = Atomic<Int64>(0)
    /// The line written when it fires: the address of a buffer holding its length (an `Int`)
    /// and its bytes, swapped whole so the thread never reads half of one message.
    fileprivate static let message = Atomic<Int>(0)

    /// Arms the watchdog `seconds` from now; only the first call in a process counts. A process
    /// arms it at its first instruction, before it reads anything that could block (its
    /// configuration included), with the deadline it can know then.
    public static func arm(after seconds: Double, exitStatus: Int32, message: String) {
        guard armed.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { return }
        Self.exitStatus.store(exitStatus, ordering: .sequentiallyConsistent)
        let now = monotonicNanoseconds()
        armedAt.store(now, ordering: .sequentiallyConsistent)
        store(message: message)
        deadline.store(now + nanoseconds(seconds), ordering: .sequentiallyConsistent)
        var thread = pthread_t()
        if pthread_create(&thread, nil, watchdogMain, nil) == 0 {
            pthread_detach(thread)
        }
    }

    /// Moves the deadline to `seconds` after the watchdog was armed — once the value the
    /// command owns is known (the hook's `deadline_seconds`, read from its configuration) — with
    /// the line naming it. Arms the watchdog now when nothing did yet.
    public static func setDeadline(secondsAfterArming seconds: Double, message: String) {
        guard armed.load(ordering: .sequentiallyConsistent) else {
            arm(after: seconds, exitStatus: exitStatus.load(ordering: .sequentiallyConsistent), message: message)
            return
        }
        store(message: message)
        deadline.store(armedAt.load(ordering: .sequentiallyConsistent) + nanoseconds(seconds), ordering: .sequentiallyConsistent)
    }

    /// The line written when it fires, from now on (what a run is doing; the deadline stays).
    public static func setMessage(_ message: String) {
        store(message: message)
    }

    /// The status the watchdog exits with from now on (armed or not yet).
    public static func setExitStatus(_ status: Int32) {
        exitStatus.store(status, ordering: .sequentiallyConsistent)
    }

    /// A message buffer is never freed: the thread may be writing the previous one. A process
    /// sets one or two.
    private static func store(message text: String) {
        let line = Array((text + "\n").utf8)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<Int>.size + line.count, alignment: MemoryLayout<Int>.alignment)
        buffer.storeBytes(of: line.count, as: Int.self)
        line.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { (buffer + MemoryLayout<Int>.size).copyMemory(from: base, byteCount: bytes.count) }
        }
        message.store(Int(bitPattern: buffer), ordering: .sequentiallyConsistent)
    }

    private static func nanoseconds(_ seconds: Double) -> Int64 {
        seconds >= 9e9 ? Int64.max / 2 : Int64(max(0, seconds) * 1e9)
    }
}

private func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// Sleeps until the deadline, at most 100 ms at a time so a deadline moved earlier is honoured.
private func watchdogMain(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    while true {
        let remaining = DeadlineWatchdog.deadline.load(ordering: .sequentiallyConsistent) - monotonicNanoseconds()
        if remaining <= 0 { break }
        let slice = min(remaining, 100_000_000)
        var request = timespec(tv_sec: Int(slice / 1_000_000_000), tv_nsec: Int(slice % 1_000_000_000))
        var rest = timespec()
        while nanosleep(&request, &rest) == -1 && errno == EINTR { request = rest }
    }
    RunningChildProcesses.killAll(signal: SIGKILL)
    // A raw write(2), not FileDescriptorIO.writeAll: the process may be wedged anywhere (in
    // malloc, holding a lock), so this path allocates nothing and takes no lock; one line is
    // far below PIPE_BUF, so a short write is not worth a loop that could block the exit.
    if let buffer = UnsafeMutableRawPointer(bitPattern: DeadlineWatchdog.message.load(ordering: .sequentiallyConsistent)) {
        _ = write(STDERR_FILENO, buffer + MemoryLayout<Int>.size, buffer.load(as: Int.self))
    }
    _exit(DeadlineWatchdog.exitStatus.load(ordering: .sequentiallyConsistent))
}
