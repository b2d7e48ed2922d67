#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's standard descriptors, and what the hook does to its stdout.
public enum StandardStreams {
    public static let input: Int32 = STDIN_FILENO
    public static let output: Int32 = STDOUT_FILENO
    public static let error: Int32 = STDERR_FILENO

    /// Points stdout at /dev/null, so nothing can reach whoever reads it; leaves it as it is
    /// when /dev/null cannot be opened.
    public static func discardOutput() {
        let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        if devNull >= 0 {
            dup2(devNull, STDOUT_FILENO)
            close(devNull)
        }
    }
}

/// Ending this process.
public enum ProcessControl {
    /// exit(3): atexit handlers run and stdio is flushed.
    public static func exit(_ status: Int32) -> Never {
        #if canImport(Glibc)
        Glibc.exit(status)
        #else
        Darwin.exit(status)
        #endif
    }

    /// This process's id.
    public static var processID: Int32 { getpid() }

    /// SIGKILL to this process, now: no cleanup of any kind, as a crash or `kill -9` would
    /// end it (crash tests only).
    public static func killImmediately() {
        _ = kill(getpid(), SIGKILL)
    }
}
