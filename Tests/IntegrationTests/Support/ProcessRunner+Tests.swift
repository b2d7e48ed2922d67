import Foundation

/// Runs a program to completion with a deadline; never hangs. The program runs under coreutils
/// `timeout --kill-after`, which puts it in a process group of its own and signals the whole
/// group (TERM, then KILL) when the deadline passes, so nothing it started outlives it; a poll
/// loop here is the backstop should `timeout` itself hang. Output goes through temp files rather
/// than pipes so a chatty child cannot block on a full pipe.
func runProcess(
    _ path: String, _ args: [String], stdin: String? = nil, environment: [String: String]? = nil,
    timeout: Duration
) -> (status: Int32, stdout: String, stderr: String) {
    let scratch = FileManager.default.temporaryDirectory
        .appendingPathComponent("run-\(UUID().uuidString)", isDirectory: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    do {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        let inURL = scratch.appendingPathComponent("stdin")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: inURL.path, contents: Data((stdin ?? "").utf8))

        let process = Process()
        let seconds = max(1, Int(timeout.components.seconds))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["--kill-after=2s", "\(seconds)", path] + args
        if let environment { process.environment = environment }
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        let inHandle = try FileHandle(forReadingFrom: inURL)
        defer {
            try? outHandle.close()
            try? errHandle.close()
            try? inHandle.close()
        }
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = inHandle
        try process.run()

        let deadline = ContinuousClock.now + timeout + .seconds(5)
        var timedOut = false
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                timedOut = true
                process.terminate()
                let killDeadline = ContinuousClock.now + .seconds(2)
                while process.isRunning, ContinuousClock.now < killDeadline { usleep(10_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            usleep(5_000)
        }
        // Bounded: Foundation's waitUntilExit can spin forever if it misses the exit.
        let reaped = ContinuousClock.now + .seconds(5)
        while process.isRunning, ContinuousClock.now < reaped { usleep(5_000) }
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        var err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        let status = process.terminationStatus
        // 124: timeout's TERM ended it; 137: its KILL did.
        if timedOut || status == 124 || status == 137 {
            err += "\n[runProcess: killed \(path) and its process group after \(timeout)]"
            return (-9, out, err)
        }
        return (status, out, err)
    } catch {
        return (-1, "", "runProcess: cannot run \(path): \(error)")
    }
}
