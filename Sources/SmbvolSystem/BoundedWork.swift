import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Work that may block in the kernel for good — file I/O on a mount whose server hangs — run on
/// a detached thread of its own and waited for at most until a deadline. A caller that stops
/// waiting leaves the thread behind, blocked where it is (no thread can be cancelled out of the
/// kernel); it finishes by itself if the mount comes back, and dies with the process otherwise.
/// Callers keep at most one such thread per resource (see `isFinished`).
public final class BoundedWork<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    private let done = DispatchSemaphore(value: 0)

    private init() {}

    /// Starts `work` on a new detached thread; nil when no thread could be created.
    public static func start(_ work: @escaping @Sendable () -> Value) -> BoundedWork<Value>? {
        let handle = BoundedWork<Value>()
        let context = Unmanaged.passRetained(BoundedWorkContext { handle.finish(work()) }).toOpaque()
        var thread = pthread_t()
        guard pthread_create(&thread, nil, boundedWorkMain, context) == 0 else {
            Unmanaged<BoundedWorkContext>.fromOpaque(context).release()
            return nil
        }
        pthread_detach(thread)
        return handle
    }

    private func finish(_ result: Value) {
        value.withLock { $0 = result }
        done.signal()
    }

    /// The work's value once it has finished, else nil: never blocks.
    public var result: Value? { value.withLock { $0 } }

    public var isFinished: Bool { result != nil }

    /// Waits until the work finishes or `seconds` pass; its value, or nil when it is still
    /// running.
    public func wait(seconds: Double) -> Value? {
        if let result { return result }
        let nanoseconds = Int(max(0, seconds) * 1e9)
        if done.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success {
            done.signal()  // later waiters see it finished too
        }
        return result
    }
}

private final class BoundedWorkContext {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

private func boundedWorkMain(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let argument else { return nil }
    Unmanaged<BoundedWorkContext>.fromOpaque(argument).takeRetainedValue().body()
    return nil
}
