import Foundation

/// Polls `condition` every `poll` until it holds or `timeout` passes; returns whether it held
/// (checked once more at the deadline). The way a test waits for something another process or
/// thread does: on an observable state, never a fixed sleep.
@discardableResult
public func waitUntil(timeout: Duration, poll: Duration = .milliseconds(20), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        let pause = min(poll, max(deadline - ContinuousClock.now, .zero))
        Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18)
    }
    return try condition()
}
