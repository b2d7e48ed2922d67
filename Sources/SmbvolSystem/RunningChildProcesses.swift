#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The process groups of the children `PosixProcessRunner` is running right now, kept in
/// lock-free atomics so that a signal handler or a watchdog can kill them all.
///
/// How the hook's global deadline uses it: when the deadline fires (a `SIGALRM` handler, or a
/// watchdog thread), call `RunningChildProcesses.killAll()` and then `_exit`. `killAll` only
/// loads atomics and calls `kill(2)`, both async-signal-safe; it allocates nothing and takes
/// no lock. Every child runs in its own process group, so `kill(-pgid)` also reaches anything
/// the child started (a mount helper's own children).
public enum RunningChildProcesses {
    public static let capacity = 8

    // Slots hold a process-group id, or 0 when free. Allocated once and never freed, so a
    // signal handler can read them at any time.
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<Atomic<Int32>> = {
        let pointer = UnsafeMutablePointer<Atomic<Int32>>.allocate(capacity: capacity)
        for index in 0..<capacity { (pointer + index).initialize(to: Atomic<Int32>(0)) }
        return pointer
    }()

    /// Records `processGroup`; returns the slot to pass to `unregister`, or nil when all slots
    /// are taken (the child still runs and is still killed by its own timeout).
    static func register(_ processGroup: Int32) -> Int? {
        for index in 0..<capacity {
            let (exchanged, _) = slots[index].compareExchange(
                expected: 0, desired: processGroup, ordering: .sequentiallyConsistent)
            if exchanged { return index }
        }
        return nil
    }

    static func unregister(slot: Int?) {
        guard let slot else { return }
        slots[slot].store(0, ordering: .sequentiallyConsistent)
    }

    /// Sends `signal` (default SIGKILL) to every registered process group. Async-signal-safe.
    public static func killAll(signal: Int32 = SIGKILL) {
        for index in 0..<capacity {
            let group = slots[index].load(ordering: .sequentiallyConsistent)
            if group > 0 { _ = kill(-group, signal) }
        }
    }

    /// The registered process groups (for tests and diagnostics).
    public static func current() -> [Int32] {
        (0..<capacity).map { slots[$0].load(ordering: .sequentiallyConsistent) }.filter { $0 > 0 }
    }
}
