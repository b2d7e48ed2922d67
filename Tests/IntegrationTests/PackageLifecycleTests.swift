import Foundation
import Testing

/// The Debian package's life cycle with the real dpkg and maintainer scripts:
/// Tests/EndToEnd/package-e2e.sh runs lintian, installs version N in a private mount namespace
/// (/etc, /usr, /var overlaid, /run a tmpfs: the host is untouched), checks what it installed
/// (binary and `smbvol --version`, hook, conffiles, directory modes, enabled units, `man smbvol`,
/// completions), edits the conffile, upgrades to N+1 (conffile unchanged: kept, no prompt) and
/// N+2 (conffile changed: kept with --force-confold), removes (configuration, secrets and state
/// stay; the hook is switched off), reinstalls, and purges (configuration gone; a share mounted
/// under /var/lib/smbvol untouched).
@Suite("Debian package life cycle (dpkg, lintian, man)", .serialized)
struct PackageLifecycleTests {
    static let script = TestBinaries.packageRoot + "/Tests/EndToEnd/package-e2e.sh"

    @Test("install, upgrade twice, remove, reinstall, purge; lintian clean", .timeLimit(.minutes(20)))
    func lifeCycle() throws {
        guard getuid() == 0 else {
            Issue.record("the package life-cycle test needs root (dpkg and overlays in a private mount namespace)")
            return
        }
        guard let deb = SmbvolPackage.path else { return }
        // The script runs scripts/package (for N+1), which needs swift on PATH.
        let path = "/usr/sbin:/usr/bin:/sbin:/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "")
        let started = ContinuousClock.now
        let result = runProcess(
            "/usr/bin/timeout", ["--kill-after=10s", "1080", "/bin/bash", Self.script, deb],
            environment: ["PATH": path, "LC_ALL": "C", "HOME": "/root"],
            timeout: .seconds(1150))
        let took = ContinuousClock.now - started
        let stepLines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("PASS") || $0.hasPrefix("FAIL") }
        #expect(
            result.status == 0,
            """
            Tests/EndToEnd/package-e2e.sh exited with \(result.status) after \(took)
            \(stepLines.joined(separator: "\n"))
            ---- stdout ----
            \(result.stdout)
            ---- stderr ----
            \(result.stderr)
            """)
        #expect(!result.stdout.contains("FAIL"), "a step failed:\n\(stepLines.joined(separator: "\n"))")
        #expect(result.stdout.contains("PASS: package life cycle, all steps"), "the script did not report success:\n\(result.stdout)")
    }

    @Test("smbvol --version prints the version in Sources/smbvol/Version.swift")
    func versionFlag() throws {
        let source = try String(contentsOfFile: TestBinaries.packageRoot + "/Sources/smbvol/Version.swift", encoding: .utf8)
        let line = try #require(source.split(separator: "\n").first { $0.hasPrefix("let smbvolVersion = \"") })
        let version = line.dropFirst("let smbvolVersion = \"".count).prefix { $0 != "\"" }
        let result = runProcess(TestBinaries.path("smbvol"), ["--version"], timeout: .seconds(10))
        #expect(result.status == 0)
        #expect(result.stdout == "\(version)\n", "stdout: \(result.stdout)")
    }
}
