#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum FileLockError: Error, Equatable, Sendable, CustomStringConvertible {
    case timedOut(path: String, waitedSeconds: Double)

    public var description: String {
        switch self {
        case .timedOut(let path, let waited):
            let seconds = (waited * 10).rounded() / 10
            return "timed out after \(seconds) s waiting for the lock on \(path): another smbvol process holds it "
                + "(find it with `fuser \(path)`); retry when it has finished"
        }
    }
}

/// An exclusive `flock(2)` on a file, held until `release()` or deinit. The kernel drops it when
/// the process dies (even by kill -9), so a crash never leaves the lock behind.
///
/// Waiting is bounded: `LOCK_NB` is polled with backoff until the timeout or the caller's
/// deadline, whichever comes first, so a stuck holder yields a clear error instead of a hang.
public final class FileLock {
    public let path: String
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { release() }

    public func release() {
        guard descriptor >= 0 else { return }
        // Closing the only descriptor drops the flock.
        close(descriptor)
        descriptor = -1
    }

    /// Opens (creating, 0600) `path` and takes an exclusive lock on it. Throws `FileLockError` on
    /// timeout and `SystemCallError` when the file cannot be opened or locked.
    public static func acquire(
        path: String, timeout: Duration, deadline: Deadline = .none,
        clock: any MonotonicClock = SystemClock()
    ) throws -> FileLock {
        let descriptor = try retryingSystemCall("open", path: path) {
            open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        }

        let start = clock.now()
        let bound = deadline.capped(at: timeout, clock: clock)
        var pause = Duration.milliseconds(2)
        while true {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
                return FileLock(path: path, descriptor: descriptor)
            }
            let code = errno
            if code != EWOULDBLOCK && code != EINTR {
                close(descriptor)
                throw SystemCallError(call: "flock", path: path, code: code)
            }
            guard let left = bound.remaining(clock: clock), left > .zero else {
                close(descriptor)
                throw FileLockError.timedOut(path: path, waitedSeconds: (clock.now() - start).secondsDouble)
            }
            clock.sleep(for: min(pause, left))
            pause = min(pause * 2, .milliseconds(50))
        }
    }

    /// Runs `body` while holding the lock on `path`.
    public static func withLock<T>(
        path: String, timeout: Duration, deadline: Deadline = .none,
        clock: any MonotonicClock = SystemClock(), _ body: () throws -> T
    ) throws -> T {
        let lock = try acquire(path: path, timeout: timeout, deadline: deadline, clock: clock)
        defer { lock.release() }
        return try body()
    }
}
