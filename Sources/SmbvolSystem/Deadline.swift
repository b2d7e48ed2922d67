/// An absolute point in time after which work must stop, handed down from the caller (the
/// hook's overall deadline, a command's timeout) to every blocking operation below it.
public struct Deadline: Sendable, Equatable {
    /// `nil` means no deadline (operator commands run without one unless asked).
    public let expiry: MonotonicInstant?

    public init(expiry: MonotonicInstant?) { self.expiry = expiry }

    public static let none = Deadline(expiry: nil)

    public static func after(_ duration: Duration, clock: any MonotonicClock) -> Deadline {
        Deadline(expiry: clock.now() + duration)
    }

    /// Time left, `nil` when unbounded, never negative.
    public func remaining(clock: any MonotonicClock) -> Duration? {
        guard let expiry else { return nil }
        let left = expiry - clock.now()
        return left > .zero ? left : .zero
    }

    public func hasExpired(clock: any MonotonicClock) -> Bool {
        guard let expiry else { return false }
        return clock.now() >= expiry
    }

    /// The earlier of this deadline and `now + duration`: a per-step timeout that never
    /// outlives the overall deadline.
    public func capped(at duration: Duration, clock: any MonotonicClock) -> Deadline {
        let candidate = clock.now() + duration
        guard let expiry else { return Deadline(expiry: candidate) }
        return Deadline(expiry: min(expiry, candidate))
    }
}
