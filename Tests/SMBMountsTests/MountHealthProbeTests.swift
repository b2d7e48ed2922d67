import Foundation
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolSystem
import Synchronization
import Testing

@Suite("Mount health probe in a child process; the hung-mount guard")
struct MountHealthProbeTests {
    func probe(_ respond: @escaping @Sendable (ProcessRequest) -> ProcessOutcome) -> (ChildProcessMountHealthProbe, RecordingRunner) {
        let runner = RecordingRunner(respond: respond)
        return (ChildProcessMountHealthProbe(runner: runner, timeout: .seconds(3)), runner)
    }

    @Test("asks statfs of the mount point through stat(1) in a child, bounded, with a short kill grace")
    func request() {
        let (probe, runner) = probe { _ in ProcessOutcome(termination: .exited(0), standardOutput: "fe534d42\n") }
        #expect(probe.health(of: "/mnt/a b") == .healthy)
        let request = runner.recorded.first
        #expect(request?.executable == "/usr/bin/stat")
        #expect(request?.arguments == ["--file-system", "--format=%t", "--", "/mnt/a b"])
        #expect(request?.timeout == .seconds(3))
        #expect(request?.terminationGrace == .milliseconds(100))
        #expect(request?.environment == ProcessRequest.minimalEnvironment)
    }

    @Test("a dead mount's error (C-locale message) is dead with that errno; other failures are not evidence")
    func deadAndOtherErrors() {
        for (code, text) in [(ENOTCONN, "Transport endpoint is not connected"), (EHOSTDOWN, "Host is down"), (ESTALE, "Stale file handle"), (EIO, "Input/output error")] {
            let (probe, _) = probe { _ in
                ProcessOutcome(termination: .exited(1), standardError: "stat: cannot read file system information for '/m': \(text)\n")
            }
            #expect(probe.health(of: "/m") == .dead(errno: code), "\(text)")
        }
        let (probe, _) = probe { _ in ProcessOutcome(termination: .exited(1), standardError: "stat: cannot read file system information for '/m': No such file or directory\n") }
        #expect(probe.health(of: "/m") == .healthy)
    }

    @Test("no answer within the timeout, or a child stuck in the kernel, is a hung mount")
    func hung() {
        let (timedOut, _) = probe { _ in ProcessOutcome(termination: .signalled(9), timedOut: true) }
        #expect(timedOut.health(of: "/m") == .hung(seconds: 3))
        struct StuckRunner: ProcessRunning {
            func run(_ request: ProcessRequest, deadline: Deadline) throws -> ProcessOutcome {
                throw ProcessRunnerError.childDidNotExit(executable: request.executable, pid: 4242)
            }
        }
        #expect(ChildProcessMountHealthProbe(runner: StuckRunner(), timeout: .seconds(2)).health(of: "/m") == .hung(seconds: 2))
    }

    @Test("the guard probes only mounted shares that a path lies under, and stops at a hung one")
    func guardProbesOnlyWhatIsTouched() throws {
        let table = FakeMountTable()
        let vmstore = try Share(
            configuration: ShareConfiguration(name: "vmstore", export: "//srv/vmstore"), mountBase: "/var/lib/smbvol/mnt")
        let other = try Share(
            configuration: ShareConfiguration(name: "other", export: "//srv/other"), mountBase: "/var/lib/smbvol/mnt")
        final class Probe: MountHealthProbing, Sendable {
            let probed = Mutex<[String]>([])
            func health(of mountPoint: String) -> MountHealth {
                probed.withLock { $0.append(mountPoint) }
                return .hung(seconds: 5)
            }
        }
        let probe = Probe()
        let hungGuard = HungMountGuard(probe: probe, mountTable: table)
        let image = vmstore.mountPoint + "/web01/disk0.qcow2"

        try hungGuard.check(paths: ["/srv/iso/install.iso"], shares: [vmstore, other], deadline: .none)
        try hungGuard.check(paths: [image], shares: [vmstore, other], deadline: .none)
        #expect(probe.probed.withLock { $0 }.isEmpty, "nothing mounted, or nothing under a share: no child")

        table.add(source: "//srv/vmstore", at: vmstore.mountPoint)
        table.add(source: "//srv/other", at: other.mountPoint)
        #expect(throws: MountCommandError.mountHung(share: "vmstore", mountPoint: vmstore.mountPoint, seconds: 5)) {
            try hungGuard.check(paths: [image], shares: [vmstore, other], deadline: .none)
        }
        #expect(probe.probed.withLock { $0 } == [vmstore.mountPoint], "only the share the image lies under")
        let message = "\(MountCommandError.mountHung(share: "vmstore", mountPoint: vmstore.mountPoint, seconds: 5))"
        #expect(message.contains("does not answer") && message.contains("umount -f -l \(vmstore.mountPoint)"), "\(message)")
    }
}
