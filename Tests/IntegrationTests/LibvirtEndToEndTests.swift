import Foundation
import Testing

/// The hook under a REAL libvirtd and qemu (TCG): Tests/EndToEnd/libvirt-e2e.sh starts virtlogd
/// and libvirtd in a private mount namespace, installs smbvol's Debian package there with dpkg
/// (its postinst makes the running libvirtd pick up the hook), starts qumulo-sim over HTTPS,
/// a real smbd and the real mount.cifs (the kernel's CIFS stood in for by tools/cifs-standin), qemu
/// running as libvirt-qemu with its image opened over SMB, and drives `virsh start` / `virsh
/// destroy` through the scenarios (stale handle, destroy with smbstatus showing the image closed,
/// live holder, cluster unreachable with continue and fail, two domains on one share, a dead mount,
/// a wrong SMB password). It asserts each one, stops what it started by pid and leaves no mounts.
///
/// Missing libvirtd/qemu is a failure, not a skip: run scripts/install-deps.
@Suite("libvirt end to end (real libvirtd + qemu)", .serialized)
struct LibvirtEndToEndTests {
    static let script = TestBinaries.packageRoot + "/Tests/EndToEnd/libvirt-e2e.sh"

    @Test("virsh start/destroy through the hook: every hook scenario of a VM's life", .timeLimit(.minutes(15)))
    func endToEnd() throws {
        let missing = ["/usr/sbin/libvirtd", "/usr/sbin/virtlogd", "/usr/bin/virsh", "/usr/bin/qemu-system-x86_64", "/usr/bin/qemu-img"]
            .filter { !FileManager.default.isExecutableFile(atPath: $0) }
        guard missing.isEmpty else {
            Issue.record(
                """
                libvirtd/qemu are not installed (missing: \(missing.joined(separator: ", "))). \
                Run scripts/install-deps, which installs libvirt-daemon, libvirt-daemon-driver-qemu, \
                libvirt-clients, qemu-system-x86 and qemu-utils and creates the libvirt-qemu user.
                """)
            return
        }
        guard getuid() == 0 else {
            Issue.record("the libvirt end-to-end test needs root (it runs libvirtd and mounts in a private namespace)")
            return
        }
        let binDirectory = URL(fileURLWithPath: TestBinaries.qumuloSim).deletingLastPathComponent().path
        // smbvol is installed from its package (dpkg -i inside the script's namespace).
        guard let deb = SmbvolPackage.path else { return }
        let started = ContinuousClock.now
        // coreutils timeout runs the script in its own process group and kills the whole group
        // (daemons included) if it overruns: nothing outlives a broken run.
        let result = runProcess(
            "/usr/bin/timeout", ["--kill-after=10s", "540", "/bin/bash", Self.script, binDirectory],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "HOME": "/root", "SMBVOL_DEB": deb],
            timeout: .seconds(600))
        let took = ContinuousClock.now - started
        let passLines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("PASS") || $0.hasPrefix("FAIL") }
        #expect(
            result.status == 0,
            """
            Tests/EndToEnd/libvirt-e2e.sh exited with \(result.status) after \(took)
            \(passLines.joined(separator: "\n"))
            ---- stdout ----
            \(result.stdout)
            ---- stderr ----
            \(result.stderr)
            """)
        #expect(!result.stdout.contains("FAIL"), "a scenario failed:\n\(passLines.joined(separator: "\n"))")
        #expect(result.stdout.contains("PASS: libvirt end-to-end, all scenarios"), "the script did not report success:\n\(result.stdout)")
    }

    @Test("a missing libvirt-qemu group is a FAIL preflight line within seconds, never a hang", .timeLimit(.minutes(1)))
    func missingQemuGroupFailsFast() throws {
        guard getuid() == 0 else {
            Issue.record("needs root: it hides the group in a private mount namespace")
            return
        }
        let binDirectory = URL(fileURLWithPath: TestBinaries.qumuloSim).deletingLastPathComponent().path
        // /etc/group without libvirt-qemu, bind-mounted in a private namespace: the host's
        // accounts are untouched.
        let script = """
            set -e
            scratch=$(mktemp -d)
            trap 'rm -rf "$scratch"' EXIT
            grep -v '^libvirt-qemu:' /etc/group >"$scratch/group"
            mount --bind "$scratch/group" /etc/group
            bash "$1" "$2"
            """
        let started = ContinuousClock.now
        let result = runProcess(
            "/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/bash", "-c", script, "e2e", Self.script, binDirectory],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "HOME": "/root"],
            timeout: .seconds(30))
        let took = ContinuousClock.now - started
        #expect(result.status == 1, "status \(result.status): \(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("FAIL preflight: group libvirt-qemu missing"), "\(result.stdout)")
        #expect(result.stdout.contains("scripts/install-deps"), "the FAIL line says what to run: \(result.stdout)")
        #expect(took < .seconds(10), "preflight took \(took)")
    }
}
