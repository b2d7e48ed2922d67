import Foundation
import SmbvolTestSupport
import Testing

/// hooks/qemu and `smbvol hook` share one rule: only a VM start (`prepare begin`) and an incoming
/// migration (`migrate begin`) may be stopped by a non-zero status; every other call libvirt
/// makes must succeed (a failing `started` or `reconnect` kills a running qemu). This suite holds
/// that rule in one table and checks both programs against it.
@Suite("hook dispatcher and binary agree on which calls may fail")
struct DispatcherTests {
    /// Every (op, subop) libvirt 9.0's qemu driver sends, and whether a failure may stop it.
    static let calls: [(operation: String, subOperation: String, mayFail: Bool)] = [
        ("prepare", "begin", true),
        ("migrate", "begin", true),
        ("start", "begin", false),
        ("started", "begin", false),
        ("stopped", "end", false),
        ("release", "end", false),
        ("restore", "begin", false),
        ("reconnect", "begin", false),
        ("attach", "begin", false),
    ]

    static let dispatcher = TestBinaries.packageRoot + "/hooks/qemu"

    @Test("with the binary missing, the dispatcher exits 1 only where a failure may stop libvirt")
    func binaryMissing() throws {
        guard getuid() == 0 else {
            Issue.record("needs root: hides /usr/sbin and /usr/bin/smbvol in a private mount namespace")
            return
        }
        // /usr/sbin becomes an empty tmpfs in a private namespace, and /usr/bin/smbvol (if any)
        // is covered, so the dispatcher finds no binary; the host is untouched.
        let script = """
            set -e
            mount -t tmpfs none /usr/sbin
            if [ -e /usr/bin/smbvol ]; then mount --bind /dev/null /usr/bin/smbvol; fi
            for call in "$@"; do
                set +e
                echo '<domain/>' | /bin/sh "$DISPATCHER" web01 ${call%:*} ${call#*:} - 2>/dev/null
                echo "$call=$?"
                set -e
            done
            """
        let arguments = Self.calls.map { "\($0.operation):\($0.subOperation)" }
        let result = runProcess(
            "/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/bash", "-c", script, "dispatch"] + arguments,
            environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C", "DISPATCHER": Self.dispatcher], timeout: .seconds(30))
        #expect(result.status == 0, "\(result.stderr)")
        for call in Self.calls {
            let expected = call.mayFail ? 1 : 0
            #expect(
                result.stdout.contains("\(call.operation):\(call.subOperation)=\(expected)\n"),
                "hooks/qemu \(call.operation) \(call.subOperation) without the binary should exit \(expected): \(result.stdout)")
        }
    }

    @Test("the binary, given XML it cannot parse, fails only where a failure may stop libvirt")
    func binaryOnBadInput() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dispatcher-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let config = try SmbvolConfigurationFile(["state_dir": .string(scratch + "/state"), "mount_base": .string(scratch + "/mnt")])
            .write(in: scratch)
        for call in Self.calls {
            let result = runProcess(
                TestBinaries.path("smbvol"), ["hook", "web01", call.operation, call.subOperation, "-"],
                stdin: "<domain><name>web01</name", environment: ["SMBVOL_CONFIG": config, "LC_ALL": "C", "PATH": "/usr/bin:/bin"],
                timeout: .seconds(20))
            #expect(
                result.status == (call.mayFail ? 1 : 0),
                "smbvol hook \(call.operation) \(call.subOperation) on malformed XML: status \(result.status), stderr \(result.stderr)")
            #expect(result.stdout.isEmpty, "the hook printed on stdout: \(result.stdout)")
        }
    }
}
