#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT for a service that must never be cut off mid-write (`heartbeat`): blocked
/// in every thread, and waited for between rounds.
public struct TerminationSignals {
    private let signals: sigset_t

    public init() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        self.signals = signals
    }

    /// Blocks them: call before anything starts a thread, so every thread inherits the mask and
    /// the signals wait for `wait` between beats — a write is never cut in half by SIGTERM.
    public func block() {
        var signals = signals
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    /// Sleeps up to `seconds` of wall-clock time, in slices of at most a second: a host paused or
    /// suspended during the wait beats (and checks for takeovers) as soon as it runs again, not
    /// a whole interval later. True when SIGTERM or SIGINT arrived.
    public func wait(seconds: Double) -> Bool {
        let clock = SystemClock()
        let end = clock.wallClockSeconds() + seconds
        while true {
            let remaining = end - clock.wallClockSeconds()
            // Past the end, or the wall clock jumped back by more than the wait: beat now.
            if remaining <= 0 || remaining > seconds + 1 { return false }
            var set = signals
            let slice = min(1, remaining)
            let whole = Int(slice.rounded(.down))
            var timeout = timespec(tv_sec: whole, tv_nsec: Int((slice - Double(whole)) * 1e9))
            let result = sigtimedwait(&set, nil, &timeout)
            if result == SIGTERM || result == SIGINT { return true }
        }
    }
}
