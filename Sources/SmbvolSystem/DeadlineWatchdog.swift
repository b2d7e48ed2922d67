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

    /// Arms the watchdog; only the first call in a process counts.
    public static func arm(after seconds: Double, exitStatus: Int32, message: String) {
        guard armed.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { return }
        Self.exitStatus.store(exitStatus, ordering: .sequentiallyConsistent)
        let line = Array((message + "\n").utf8)
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, line.count))
        buffer.initialize(from: line, count: line.count)
        let context = WatchdogContext(seconds: seconds, message: buffer, length: line.count)
        var thread = pthread_t()
        let box = Unmanaged.passRetained(context).toOpaque()
        if pthread_create(&thread, nil, watchdogMain, box) == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<WatchdogContext>.fromOpaque(box).release()
        }
    }

    /// The status the watchdog exits with from now on (armed or not yet).
    public static func setExitStatus(_ status: Int32) {
        exitStatus.store(status, ordering: .sequentiallyConsistent)
    }

    /// The status the watchdog would exit with now.
    public static var currentExitStatus: Int32 { exitStatus.load(ordering: .sequentiallyConsistent) }
}

private final class WatchdogContext {
    let seconds: Double
    let message: UnsafeMutablePointer<UInt8>
    let length: Int

    init(seconds: Double, message: UnsafeMutablePointer<UInt8>, length: Int) {
        self.seconds = seconds
        self.message = message
        self.length = length
    }
}

private func watchdogMain(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let argument else { return nil }
    let context = Unmanaged<WatchdogContext>.fromOpaque(argument).takeRetainedValue()
    var request = timespec(tv_sec: Int(context.seconds), tv_nsec: Int((context.seconds - Double(Int(context.seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    RunningChildProcesses.killAll(signal: SIGKILL)
    // A raw write(2), not FileDescriptorIO.writeAll: the process may be wedged anywhere (in
    // malloc, holding a lock), so this path allocates nothing and takes no lock; one line is
    // far below PIPE_BUF, so a short write is not worth a loop that could block the exit.
    _ = write(STDERR_FILENO, context.message, context.length)
    _exit(DeadlineWatchdog.exitStatus.load(ordering: .sequentiallyConsistent))
}
