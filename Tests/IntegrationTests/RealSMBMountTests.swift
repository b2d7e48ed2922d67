import Foundation
import Testing

/// The mount path's failure modes, made by the real components: a killed or stopped FUSE SMB
/// client under a mounted share, qemu's account opening an image through the mount, concurrent
/// starts on one share. Real mount.cifs, real smbd, the CIFS stand-in (tools/cifs-standin).
@Suite("Real SMB: dead and hung mounts, qemu's account, concurrent starts", .serialized)
struct RealSMBMountTests {
    @Test("the CIFS stand-in's own checks against the real mount.cifs, smbd and smbnetfs (tools/cifs-standin/test.sh)")
    func standInSelfTest() {
        let result = runProcess(
            "/bin/bash", [TestBinaries.packageRoot + "/tools/cifs-standin/test.sh"],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"], timeout: .seconds(200))
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("all stand-in checks passed"), "\(result.stdout)")
    }

    @Test("a dead mount (its FUSE client killed: ENOTCONN): the next prepare unmounts it, mounts afresh, starts; syslog has it")
    func deadMountIsReplaced() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let web02 = fixture.domainXML(name: "web02", uuid: Reliability.web02)
        let first = fixture.hook("web02", "prepare", "begin", xml: web02)
        #expect(first.status == 0, "\(first.stderr)")
        let mountPoint = fixture.mountPoint
        let clients = fixture.mounts.fuseClients(under: mountPoint)
        #expect(!clients.isEmpty, "no FUSE client serves \(mountPoint)")
        for pid in clients { kill(pid, SIGKILL) }
        let dead = Reliability.waitUntil(.seconds(5)) {
            fixture.mounts.shell("stat '\(mountPoint)' 2>&1; true").stdout.contains("Transport endpoint is not connected")
        }
        #expect(dead, "the mount should answer ENOTCONN once its client is gone")

        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.mountCount == 1, "one mount at the mount point, not a stack")
        #expect(fixture.mounts.logLines("mount-calls.log").count == 2, "mounted afresh")
        #expect(fixture.mounts.logLines("umount.log") == [mountPoint], "the dead mount was unmounted (not lazily)")
        let answers = fixture.mounts.shell("stat -c %F '\(mountPoint)/web01/disk0.qcow2'")
        #expect(answers.status == 0 && answers.stdout.contains("regular"), "\(answers)")
        #expect(fixture.syslog.lines.contains { $0.contains("event=dead-mount") && $0.contains("errno=\(ENOTCONN)") }, "\(fixture.syslog.lines)")
        #expect(try fixture.mounts.locks().count == 2)
    }

    @Test("a hung mount (its FUSE client stopped): prepare, reconnect, release, mounts, reconcile return within the deadline with a clear line; nothing is left blocked")
    func hungMountNeverBlocks() throws {
        let deadline = 8.0
        let fixture = try HookFixture(scenario: "stale.json", deadlineSeconds: deadline)
        let web02 = fixture.domainXML(name: "web02", uuid: Reliability.web02)
        #expect(fixture.hook("web02", "prepare", "begin", xml: web02).status == 0)
        let mountPoint = fixture.mountPoint
        let clients = fixture.mounts.fuseClients(under: mountPoint)
        #expect(!clients.isEmpty)
        for pid in clients { kill(pid, SIGSTOP) }
        defer { for pid in clients { kill(pid, SIGCONT) } }
        usleep(1_200_000)  // past FUSE's 1 s attribute cache: every access now waits for the client

        let bound = Duration.seconds(deadline + 2)
        func timed(_ label: String, _ run: () -> (status: Int32, stdout: String, stderr: String)) -> (status: Int32, stdout: String, stderr: String) {
            let started = ContinuousClock.now
            let result = run()
            let took = ContinuousClock.now - started
            #expect(took < bound, "\(label) took \(took)")
            return result
        }
        let prepare = timed("prepare") { fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML()) }
        #expect(prepare.status == 1)
        #expect(prepare.stderr.split(separator: "\n").count == 1, "\(prepare.stderr)")
        #expect(prepare.stderr.contains("does not answer") && prepare.stderr.contains(mountPoint), "\(prepare.stderr)")

        let reconnect = timed("reconnect") { fixture.hook("web02", "reconnect", "begin", xml: web02) }
        #expect(reconnect.status == 0 && reconnect.stdout.isEmpty, "\(reconnect)")
        let mounts = timed("mounts") { fixture.mounts.smbvol(["mounts"]) }
        #expect(mounts.status == 0 && mounts.stdout.contains("vmstore"), "\(mounts)")
        let release = timed("release") { fixture.hook("web02", "release", "end", xml: web02) }
        #expect(release.status == 0 && release.stdout.isEmpty, "\(release)")
        let uri = try Reliability.testDriverURI(in: fixture.mounts.directory, running: [])
        let reconcile = timed("reconcile") { fixture.mounts.smbvol(["reconcile", "--connect", uri]) }
        #expect(reconcile.stderr.contains("does not answer") || reconcile.stdout.contains("does not answer"), "\(reconcile)")

        let lines = fixture.syslog.lines
        #expect(lines.contains { $0.contains("event=hung-mount") && $0.contains(mountPoint) }, "\(lines)")
        #expect(lines.contains { $0.contains("reconnect") && $0.contains("does not answer") }, "\(lines)")
        #expect(lines.contains { $0.contains("does not answer") && $0.contains("release") || $0.contains("left mounted") }, "\(lines)")
        // No smbvol (or probe) of this fixture is left waiting on the mount.
        let leftovers = Reliability.commandLines().filter { pid, commandLine in
            commandLine.contains(mountPoint) && !commandLine.contains("smbnetfs")
                || (commandLine.contains(fixture.mounts.smbvol)
                    && (FileManager.default.contents(atPath: "/proc/\(pid)/environ").map { String(decoding: $0, as: UTF8.self) } ?? "")
                        .contains(fixture.mounts.configPath))
        }
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(fixture.isMounted, "a hung mount is never unmounted behind the operator's back")

        // The operator's way out: a forced (lazy) unmount detaches it.
        let forced = timed("unmount --force") { fixture.mounts.smbvol(["unmount", "vmstore", "--force"]) }
        #expect(forced.status == 0, "\(forced)")
        #expect(!fixture.isMounted)
    }

    @Test("qemu's account: uid/gid from qemu_user/qemu_group reach mount(2), and that account (not another) can open the image read-write")
    func qemuAccountOpensImage() throws {
        let uid = try #require(getpwnam("libvirt-qemu")?.pointee.pw_uid, "user libvirt-qemu (scripts/install-deps creates it)")
        let gid = try #require(getgrnam("libvirt-qemu")?.pointee.gr_gid, "group libvirt-qemu")
        let fixture = try MountLockFixture(qemuUser: "libvirt-qemu", qemuGroup: "libvirt-qemu")
        try Data("image".utf8).write(to: URL(fileURLWithPath: fixture.root + "/srv/vmstore/disk0.img"))
        let attach = fixture.smbvol(fixture.attachArguments(domain: "web01"))
        #expect(attach.status == 0, "\(attach.stderr)")
        let mountPoint = MountLockFixture.attachedMountPoint(attach.stdout)
        #expect(fixture.kernelOptionStrings.first?.contains(",uid=\(uid),gid=\(gid),user=svc,") == true, "\(fixture.kernelOptionStrings)")
        let image = mountPoint + "/disk0.img"
        let owner = fixture.shell("stat -c '%u %g' '\(image)'")
        #expect(owner.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(uid) \(gid)", "\(owner)")
        let asQemu = fixture.shell("setpriv --reuid=\(uid) --regid=\(gid) --init-groups sh -c 'cat \"$0\" && printf more | dd of=\"$0\" bs=1 seek=5 conv=notrunc status=none' '\(image)'")
        #expect(asQemu.status == 0 && asQemu.stdout.contains("image"), "libvirt-qemu cannot use its image: \(asQemu)")
        let asNobody = fixture.shell("setpriv --reuid=65534 --regid=65534 --clear-groups cat '\(image)'")
        #expect(asNobody.status != 0, "another account could read the image: \(asNobody)")
        #expect(try String(contentsOfFile: fixture.root + "/srv/vmstore/disk0.img", encoding: .utf8) == "imagemore")
    }

    @Test("two domains on one share, concurrent starts: one real mount, two locks; destroying one keeps the mount for the other")
    func concurrentStartsShareOneMount() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let web01 = fixture.domainXML()
        let web02 = fixture.domainXML(name: "web02", uuid: Reliability.web02)
        let first = try fixture.backgroundHook("web01", "prepare", "begin", xml: web01)
        let second = try fixture.backgroundHook("web02", "prepare", "begin", xml: web02)
        #expect(first.wait(timeout: .seconds(60)) == 0, "\(first.stderr)")
        #expect(second.wait(timeout: .seconds(60)) == 0, "\(second.stderr)")
        #expect(fixture.mounts.logLines("mount-calls.log").count == 1, "one mount(2)")
        #expect(fixture.mountCount == 1)
        #expect(fixture.mounts.fuseClients(under: fixture.mountPoint).count >= 1)
        #expect(try fixture.mounts.locks().count == 2)

        #expect(fixture.hook("web01", "release", "end", xml: web01).status == 0)
        #expect(fixture.isMounted, "web02 still holds the share")
        #expect(try fixture.mounts.locks().map { $0["domain_uuid"] as? String } == [Reliability.web02])
        #expect(fixture.hook("web02", "release", "end", xml: web02).status == 0)
        #expect(!fixture.isMounted)
        #expect(Reliability.waitUntil(.seconds(5)) { fixture.mounts.fuseClients().isEmpty }, "the FUSE client outlived the unmount")
    }
}
