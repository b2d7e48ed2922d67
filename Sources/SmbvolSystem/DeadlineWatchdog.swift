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

    /// Arms the watchdog; only the first call in a process counts.
    public static func arm(after seconds: Double, exitStatus: Int32, message: String) {
        guard armed.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { return }
        let line = Array((message + "\n").utf8)
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, line.count))
        buffer.initialize(from: line, count: line.count)
        let context = WatchdogContext(seconds: seconds, exitStatus: exitStatus, message: buffer, length: line.count)
        var thread = pthread_t()
        let box = Unmanaged.passRetained(context).toOpaque()
        if pthread_create(&thread, nil, watchdogMain, box) == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<WatchdogContext>.fromOpaque(box).release()
        }
    }
}

private final class WatchdogContext {
    let seconds: Double
    let exitStatus: Int32
    let message: UnsafeMutablePointer<UInt8>
    let length: Int

    init(seconds: Double, exitStatus: Int32, message: UnsafeMutablePointer<UInt8>, length: Int) {
        self.seconds = seconds
        self.exitStatus = exitStatus
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
    _ = write(STDERR_FILENO, context.message, context.length)
    _exit(context.exitStatus)
}
