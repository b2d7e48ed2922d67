import SmbvolSystem

/// Retries for idempotent requests on connection errors and 5xx answers: at most
/// `maximumAttempts`, exponential backoff with full jitter, never sleeping past the deadline.
public struct RetryPolicy: Sendable, Equatable {
    public var maximumAttempts: Int
    public var baseDelay: Duration
    public var maximumDelay: Duration

    public init(maximumAttempts: Int = 3, baseDelay: Duration = .milliseconds(200), maximumDelay: Duration = .seconds(2)) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
    }

    public static let standard = RetryPolicy()
    public static let never = RetryPolicy(maximumAttempts: 1)

    /// The wait before attempt `attempt + 1` (attempt counts from 1): a uniformly random share
    /// (`jitter` in 0…1) of `baseDelay · 2^(attempt-1)`, capped at `maximumDelay`.
    public func delay(afterAttempt attempt: Int, jitter: Double) -> Duration {
        let exponent = min(max(attempt - 1, 0), 20)
        let ceiling = min(baseDelay * (1 << exponent), maximumDelay)
        let fraction = min(max(jitter, 0), 1)
        return .nanoseconds(Int64(Double(ceiling.nanosecondsClamped) * fraction))
    }
}

/// A source of jitter fractions in 0…1; tests pass a fixed one.
public protocol JitterSource: Sendable {
    func nextFraction() -> Double
}

public struct SystemJitter: JitterSource {
    public init() {}

    public func nextFraction() -> Double {
        var generator = SystemRandomNumberGenerator()
        return Double.random(in: 0...1, using: &generator)
    }
}
