import Logging
import QumuloClient
import SmbvolSystem
import SmbvolTestSupport
import Synchronization

/// A clock that only moves when slept on (or advanced), recording every sleep.
final class FakeClock: MonotonicClock, Sendable {
    private let state = Mutex<(now: UInt64, sleeps: [Duration])>((1_000_000_000, []))

    func now() -> MonotonicInstant { MonotonicInstant(nanoseconds: state.withLock { $0.now }) }

    func sleep(for duration: Duration) {
        state.withLock { state in
            state.sleeps.append(duration)
            state.now += UInt64(max(0, duration.nanosecondsClamped))
        }
    }

    func advance(by duration: Duration) {
        state.withLock { $0.now += UInt64(max(0, duration.nanosecondsClamped)) }
    }

    func wallClockSeconds() -> Double { Double(state.withLock { $0.now }) / 1e9 }

    var sleeps: [Duration] { state.withLock { $0.sleeps } }
}

struct FixedJitter: JitterSource {
    var fraction: Double
    func nextFraction() -> Double { fraction }
}

func makeClient(
    _ transport: ScriptedTransport, login: ClusterLogin = ClusterLogin(accessToken: Secret("session-v1:stored")),
    clock: FakeClock = FakeClock(), deadline: Deadline = .none, retry: RetryPolicy = .standard,
    logHandler: CapturingLogHandler = CapturingLogHandler()
) -> QumuloClient {
    let logger = Logger(label: "test") { _ in logHandler }
    return QumuloClient(
        transport: transport, login: login, deadline: deadline, requestTimeout: .seconds(5), retryPolicy: retry,
        clock: clock, jitter: FixedJitter(fraction: 1), logger: logger)
}
