import Foundation

/// A local process that holds an image open the way qemu does (a descriptor on the file), named
/// like a qemu of `guest` on its command line (`-name guest=NAME,debug-threads=on`). Ready once
/// it has printed that it opened the file: no sleep stands in for that.
final class LocalImageHolder {
    let process = Process()
    var pid: Int32 { process.processIdentifier }

    init(opening path: String, guest: String) throws {
        let ready = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        let script = "import sys, time\nf = open(sys.argv[1], 'rb')\nprint('open', flush=True)\ntime.sleep(120)\n"
        process.arguments = [
            "--kill-after=5s", "150s", "python3", "-c", script, path, "-name", "guest=\(guest),debug-threads=on",
        ]
        process.standardOutput = ready
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = ready.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).hasPrefix("open") else {
            stop()
            throw HolderError("the local holder did not open \(path)")
        }
        // `timeout` forks the holder as its child: the holder's pid is the one to name.
        holderPID = Self.child(of: process.processIdentifier) ?? process.processIdentifier
    }

    /// The process that has the file open (timeout's child).
    private(set) var holderPID: Int32 = 0

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    private static func child(of parent: Int32) -> Int32? {
        let text = (try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.flatMap { Int32($0) }
    }

    struct HolderError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
