import Dispatch
import SmbvolSystem
import Testing

@Suite("BoundedWork: waiting for work that may block forever")
struct BoundedWorkTests {
    @Test("work that blocks: the wait ends at its bound with nothing; the value is there once the work returns")
    func blockedThenFinished() throws {
        let gate = DispatchSemaphore(value: 0)
        let work = try #require(BoundedWork.start { () -> Int in
            gate.wait()
            return 42
        })
        let started = ContinuousClock.now
        #expect(work.wait(seconds: 0.2) == nil)
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(150) && waited < .seconds(5))
        #expect(!work.isFinished)
        gate.signal()
        #expect(work.wait(seconds: 10) == 42)
        #expect(work.isFinished && work.wait(seconds: 0) == 42)
    }

    @Test("work that finishes at once is waited for, not slept past")
    func quick() throws {
        let work = try #require(BoundedWork.start { "done" })
        let started = ContinuousClock.now
        #expect(work.wait(seconds: 30) == "done")
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
