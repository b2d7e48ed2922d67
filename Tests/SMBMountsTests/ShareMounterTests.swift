import Logging
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolSystem
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("ShareMounter")
struct ShareMounterTests {
    let directory: String
    let table = FakeMountTable()
    let credentials: String

    init() throws {
        directory = try makeTemporaryDirectory()
        credentials = directory + "/vmstore.cred"
        try AtomicFileWriterShim.write("username=svc\npassword=secret\n", to: credentials)
    }

    func mounter(runner: RecordingRunner, probe: FixedProbe = FixedProbe([])) -> ShareMounter {
        var configuration = SmbvolConfiguration(stateDirectory: directory + "/state", mountBase: directory + "/mnt")
        configuration.qemuUser = "libvirt-qemu"
        configuration.qemuGroup = "kvm"
        var mounter = ShareMounter(
            settings: MountSettings(configuration: configuration),
            accountResolver: QemuAccountResolver(configuration: configuration, database: NoAccounts()),
            runner: runner, mountTable: table, probe: probe, logger: Logger(label: "test"))
        mounter.busyRetryDelay = .milliseconds(1)
        return mounter
    }

    /// Behaves like mount.cifs / umount on the fake table.
    func workingRunner(mountExit: Int32 = 0, stderr: String = "") -> RecordingRunner {
        let table = self.table
        return RecordingRunner { request in
            if request.executable.hasSuffix("mount.cifs") {
                if mountExit == 0 { table.add(source: request.arguments[0], at: request.arguments[1]) }
                return ProcessOutcome(termination: .exited(mountExit), standardError: stderr)
            }
            table.remove(at: request.arguments.last ?? "")
            return ProcessOutcome(termination: .exited(0))
        }
    }

    func share() throws -> Share {
        try Share(
            configuration: ShareConfiguration(
                name: "vmstore", export: "//srv/vmstore", credentials: credentials, options: ["vers=3.1.1"]),
            mountBase: directory + "/mnt")
    }

    @Test("mounts once; a second call sees the same source and runs nothing")
    func idempotent() throws {
        let runner = workingRunner()
        let mounter = mounter(runner: runner)
        let share = try share()
        #expect(try mounter.ensureMounted(share, deadline: .none) == .mounted)
        #expect(try mounter.ensureMounted(share, deadline: .none) == .alreadyMounted)
        #expect(runner.recorded.count == 1)
        #expect(
            runner.recorded.first?.arguments == [
                "//srv/vmstore", share.mountPoint, "-o",
                "credentials=\(credentials),uid=64055,gid=993,file_mode=0660,dir_mode=0770,vers=3.1.1",
            ])
        #expect(runner.recorded.first?.environment == ProcessRequest.minimalEnvironment)
    }

    @Test("a foreign source at the mount point is refused, naming both")
    func foreign() throws {
        let share = try share()
        table.add(source: "//other/share", at: share.mountPoint)
        let runner = workingRunner()
        #expect(
            throws: MountCommandError.foreignMount(mountPoint: share.mountPoint, found: "//other/share", expected: "//srv/vmstore")
        ) { try mounter(runner: runner).ensureMounted(share, deadline: .none) }
        #expect(runner.recorded.isEmpty)
    }

    @Test("a dead mount is unmounted (not lazily) and mounted again")
    func deadMount() throws {
        let share = try share()
        table.add(source: "//SRV/vmstore/", at: share.mountPoint)
        let runner = workingRunner()
        let outcome = try mounter(runner: runner, probe: FixedProbe([.dead(errno: EHOSTDOWN)])).ensureMounted(share, deadline: .none)
        #expect(outcome == .remounted)
        #expect(runner.recorded.map(\.executable) == ["/bin/umount", "/sbin/mount.cifs"])
        #expect(runner.recorded.first?.arguments == [share.mountPoint])
    }

    @Test("mount.cifs failures become one-line explanations", arguments: [
        (Int32(32), "mount error(13): Permission denied", "permission denied"),
        (Int32(112), "mount error(112): Host is down", "host down"),
        (Int32(32), "mount error(2): No such file or directory", "no such share"),
        (Int32(32), "mount error(22): Invalid argument\nRefer to the mount.cifs(8) manual page", "Invalid argument"),
    ])
    func failures(status: Int32, stderr: String, expected: String) throws {
        let runner = workingRunner(mountExit: status, stderr: stderr)
        do {
            _ = try mounter(runner: runner).ensureMounted(try share(), deadline: .none)
            Issue.record("mount should fail")
        } catch let error as MountCommandError {
            #expect(error.description.contains(expected))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("busy unmounts are retried three times, then refused unless forced (lazy)")
    func busy() throws {
        let share = try share()
        table.add(source: "//srv/vmstore", at: share.mountPoint)
        let busy = RecordingRunner { _ in ProcessOutcome(termination: .exited(32), standardError: "umount: target is busy.") }
        #expect(throws: MountCommandError.unmountBusy(mountPoint: share.mountPoint, share: "vmstore")) {
            try mounter(runner: busy).unmount(mountPoint: share.mountPoint, share: "vmstore", force: false, deadline: .none)
        }
        #expect(busy.recorded.count == 4)
        #expect(busy.recorded.allSatisfy { !$0.arguments.contains("-l") })
        let table = self.table
        let lazyWorks = RecordingRunner { request in
            guard request.arguments.contains("-l") else {
                return ProcessOutcome(termination: .exited(32), standardError: "umount: target is busy.")
            }
            table.remove(at: share.mountPoint)
            return ProcessOutcome(termination: .exited(0))
        }
        #expect(try mounter(runner: lazyWorks).unmount(mountPoint: share.mountPoint, share: "vmstore", force: true, deadline: .none))
        #expect(lazyWorks.recorded.last?.arguments == ["-l", share.mountPoint])
    }

    @Test("a share known only from lock records is never mounted, and is unmounted only where smbvol would have mounted it")
    func recordOnlyShare() throws {
        let configured = try share()
        let recorded = Share(recordedName: "gone", mountPoint: configured.mountPoint)
        let runner = workingRunner()
        #expect(throws: MountConfigurationError.exportNotRecorded(share: "gone", mountPoint: configured.mountPoint)) {
            try mounter(runner: runner).ensureMounted(recorded, deadline: .none)
        }
        #expect(runner.recorded.isEmpty)
        // Something else mounted at its directory is never unmounted for it.
        table.add(source: "//other/share", at: configured.mountPoint)
        #expect(throws: MountCommandError.self) {
            try mounter(runner: runner).unmount(mountPoint: recorded.usablePath, share: recorded.name, export: recorded.export, force: false, deadline: .none)
        }
        #expect(runner.recorded.isEmpty)
        // The export smbvol mounts at a directory of that name is.
        table.remove(at: configured.mountPoint)
        table.add(source: "//srv/vmstore", at: configured.mountPoint)
        #expect(try mounter(runner: runner).unmount(mountPoint: recorded.usablePath, share: recorded.name, export: recorded.export, force: false, deadline: .none))
        #expect(runner.recorded.map(\.arguments) == [[configured.mountPoint]])
    }

    @Test("a password from connection info goes to a 0600 file, never to argv, and the file is removed")
    func connectionInfoPassword() throws {
        let json = """
            {"driver_volume_type": "smbfs", "data": {"export": "//srv/vols", "name": "volume-1.qcow2", "format": "qcow2",
             "options": "-o vers=3.1.1,username=svc,password=S3cret!,,x,domain=CORP"}}
            """
        let info = try SMBConnectionInfo(json: Array(json.utf8))
        let share = info.mountableShare(mountBase: directory + "/mnt")
        let seen = Mutex<(String, mode_t)>(("", 0))
        let table = self.table
        let runner = RecordingRunner { request in
            let option = request.arguments[3].split(separator: ",").first { $0.hasPrefix("credentials=") } ?? ""
            let path = String(option.dropFirst("credentials=".count))
            var info = stat()
            stat(path, &info)
            let content = (try? readWholeFile(path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            seen.withLock { $0 = (content, info.st_mode & 0o777) }
            table.add(source: request.arguments[0], at: request.arguments[1])
            return ProcessOutcome(termination: .exited(0))
        }
        #expect(try mounter(runner: runner).ensureMounted(share, deadline: .none) == .mounted)
        let request = try #require(runner.recorded.first)
        #expect(!(request.arguments + request.environment.values).joined().contains("S3cret"))
        #expect(request.arguments[3].hasSuffix(",file_mode=0660,dir_mode=0770,vers=3.1.1"))
        let (content, mode) = seen.withLock { $0 }
        #expect(content == "username=svc\npassword=S3cret!,x\ndomain=CORP\n")
        #expect(mode == 0o600)
        #expect(try listDirectory(directory + "/state/credentials").isEmpty)
    }

    @Test("connection info with other flags or smuggled options is refused")
    func connectionInfoInjection() throws {
        let flags = #"{"driver_volume_type":"smbfs","data":{"export":"//s/v","options":"-o vers=3 --bind /"}}"#
        #expect(throws: MountConfigurationError.self) { try SMBConnectionInfo(json: Array(flags.utf8)) }
        let smuggled = #"{"driver_volume_type":"smbfs","data":{"export":"//s/v","options":"-o uid=0"}}"#
        let share = try SMBConnectionInfo(json: Array(smuggled.utf8)).mountableShare(mountBase: directory + "/mnt")
        #expect(throws: MountConfigurationError.reservedOption(share: share.name, option: "uid=0")) {
            try mounter(runner: workingRunner()).ensureMounted(share, deadline: .none)
        }
    }
}
