import Foundation

/// Runs a program to completion with a deadline; never hangs (SIGTERM, then SIGKILL, on timeout).
/// Output goes through temp files rather than pipes so a chatty child cannot block on a full pipe.
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
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
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

        let deadline = ContinuousClock.now + timeout
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
        if timedOut { err += "\n[runProcess: killed \(path) after \(timeout)]" }
        return (timedOut ? -9 : process.terminationStatus, out, err)
    } catch {
        return (-1, "", "runProcess: cannot run \(path): \(error)")
    }
}
