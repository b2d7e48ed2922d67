import Testing
import SmbvolSystem

#if canImport(Glibc)
import Glibc
#endif

@Suite("PosixProcessRunner")
struct PosixProcessRunnerTests {
    let runner = PosixProcessRunner()

    @Test("captures stdout, stderr and the exit status with an explicit environment")
    func capturesOutput() throws {
        let outcome = try runner.run(
            ProcessRequest(
                executable: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; echo $ONLY_VAR; exit 3"],
                environment: ["ONLY_VAR": "given"]),
            deadline: .none)
        #expect(outcome.termination == .exited(3))
        #expect(outcome.standardOutput == "out\ngiven\n")
        #expect(outcome.standardError == "err\n")
        #expect(!outcome.timedOut)
    }

    @Test("the child gets only stdin, stdout and stderr, stdin being /dev/null")
    func closesOtherDescriptors() throws {
        let descriptor = open("/dev/null", O_RDONLY)  // not close-on-exec on purpose
        defer { close(descriptor) }
        let outcome = try runner.run(
            ProcessRequest(executable: "/bin/sh", arguments: ["-c", "ls /proc/$$/fd; readlink /proc/$$/fd/0"]),
            deadline: .none)
        #expect(outcome.standardOutput == "0\n1\n2\n/dev/null\n")
    }

    @Test("a timeout kills the whole process group, grandchildren included")
    func timeoutKillsGroup() throws {
        let clock = SystemClock()
        let start = clock.now()
        let outcome = try runner.run(
            ProcessRequest(
                executable: "/bin/sh", arguments: ["-c", "trap '' TERM; sleep 300 & echo $!; wait"],
                timeout: .milliseconds(300), terminationGrace: .milliseconds(200)),
            deadline: .none)
        #expect(outcome.timedOut)
        #expect(clock.now() - start < .seconds(5))
        let grandchild = try #require(Int32(outcome.standardOutput.split(separator: "\n").first ?? ""))
        clock.sleep(for: .milliseconds(100))
        #expect(isGoneOrZombie(grandchild))
        #expect(RunningChildProcesses.current().isEmpty)
    }

    @Test("a child that exits but leaves a process holding its pipes does not block the run")
    func leftoverHolderIsKilled() throws {
        let clock = SystemClock()
        let start = clock.now()
        let outcome = try runner.run(
            ProcessRequest(executable: "/bin/sh", arguments: ["-c", "sleep 300 & echo started"], timeout: .seconds(20)),
            deadline: .none)
        #expect(outcome.termination == .exited(0))
        #expect(!outcome.timedOut)
        #expect(clock.now() - start < .seconds(3))
    }

    @Test("a missing program is a one-line error naming it")
    func missingProgram() throws {
        #expect(throws: ProcessRunnerError.spawnFailed(executable: "/nonexistent/mount.cifs", code: ENOENT)) {
            try runner.run(ProcessRequest(executable: "/nonexistent/mount.cifs", arguments: []), deadline: .none)
        }
    }
}

/// A killed process whose parent has not reaped it yet is a zombie: it runs no more.
func isGoneOrZombie(_ pid: Int32) -> Bool {
    guard let bytes = try? readWholeFile("/proc/\(pid)/stat") else { return true }
    let text = String(decoding: bytes, as: UTF8.self)
    guard let close = text.lastIndex(of: ")") else { return true }
    return text[text.index(after: close)...].trimmingPrefix(" ").first == "Z"
}
