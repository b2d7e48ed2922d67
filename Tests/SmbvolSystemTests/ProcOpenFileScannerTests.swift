import Foundation
import SmbvolSystem
import Testing

@Suite("ProcOpenFileScanner: the kernel's open files, by device and inode")
struct ProcOpenFileScannerTests {
    /// A directory with `image`, a symlink and a hard link to it, and a child process holding the
    /// file open through the hard link (ready once it said so).
    final class Fixture {
        let directory: String
        let child = Process()
        var image: String { directory + "/vm1.qcow2" }
        var symlink: String { directory + "/current.qcow2" }
        var hardLink: String { directory + "/hard.qcow2" }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("scanner-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: image, contents: Data("QFI".utf8))
            try FileManager.default.createSymbolicLink(atPath: symlink, withDestinationPath: "vm1.qcow2")
            try FileManager.default.linkItem(atPath: image, toPath: hardLink)
            let ready = Pipe()
            child.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            child.arguments = ["-c", "import sys, time\nf = open(sys.argv[1])\nprint('open', flush=True)\ntime.sleep(60)\n", hardLink,
                "-name", "guest=db,,primary,debug-threads=on"]
            child.standardOutput = ready
            try child.run()
            _ = ready.fileHandleForReading.availableData
        }

        deinit {
            child.terminate()
            child.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test("every spelling of a file has one identity; a missing file has none")
    func identities() throws {
        let fixture = try Fixture()
        let scanner = ProcOpenFileScanner()
        let identity = try #require(try scanner.identity(ofFileAt: fixture.image))
        #expect(try scanner.identity(ofFileAt: fixture.symlink) == identity)
        #expect(try scanner.identity(ofFileAt: fixture.hardLink) == identity)
        #expect(try scanner.identity(ofFileAt: fixture.directory + "/.//vm1.qcow2") == identity)
        #expect(try scanner.identity(ofFileAt: fixture.directory + "/missing.qcow2") == nil)
    }

    @Test("a process holding the file through a hard link is found, with its command and qemu guest name")
    func findsHolder() throws {
        let fixture = try Fixture()
        let scanner = ProcOpenFileScanner()
        let identity = try #require(try scanner.identity(ofFileAt: fixture.symlink))
        let report = try scanner.openers(of: [identity])
        let openers = report.openers[identity] ?? []
        #expect(openers.map(\.pid) == [fixture.child.processIdentifier])
        #expect(openers.first?.command == "python3")
        #expect(openers.first?.guestName == "db,primary")
        // Not `unreadableProcesses == 0`: a process whose descriptors may be listed but not
        // identified (no CAP_SYS_PTRACE over it, an LSM denial — PID 1 of a sandbox) counts as
        // unreadable, and the holder found here is reported all the same.
    }

    @Test("a file nobody holds has no openers; an empty query scans nothing")
    func nobody() throws {
        let fixture = try Fixture()
        let scanner = ProcOpenFileScanner()
        FileManager.default.createFile(atPath: fixture.directory + "/other", contents: Data())
        let other = try #require(try scanner.identity(ofFileAt: fixture.directory + "/other"))
        #expect(try scanner.openers(of: [other]).openers.isEmpty)
        #expect(try scanner.openers(of: []).openers.isEmpty)
    }

    @Test(
        "qemu's -name: libvirt's guest= form, the bare form, escaped commas",
        arguments: [
            (["qemu-system-x86_64", "-name", "guest=web01,debug-threads=on"], "web01"),
            (["qemu", "-name", "web02"], "web02"),
            (["qemu", "-name", "guest=a,,b"], "a,b"),
            (["qemu", "-name", "process=x,guest=web03"], "web03"),
            (["qemu", "-m", "512"], nil),
            (["qemu", "-name"], nil),
        ] as [([String], String?)])
    func guestNames(arguments: [String], expected: String?) {
        #expect(ProcOpenFileScanner.qemuGuestName(arguments: arguments) == expected)
    }

    /// A stand-in for /proc with one process (pid 999999) whose descriptors are the given
    /// symlinks (statx follows them as it follows /proc's magic links).
    static func fakeProc(descriptors: [String: String], mountinfo: String? = nil) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fakeproc-\(UUID().uuidString)").path
        let fd = root + "/999999/fd"
        try FileManager.default.createDirectory(atPath: fd, withIntermediateDirectories: true)
        for (name, target) in descriptors { try FileManager.default.createSymbolicLink(atPath: fd + "/" + name, withDestinationPath: target) }
        try "qemu-system-x86\n".write(toFile: root + "/999999/comm", atomically: true, encoding: .utf8)
        if let mountinfo { try mountinfo.write(toFile: root + "/999999/mountinfo", atomically: true, encoding: .utf8) }
        return root
    }

    @Test("a descriptor that cannot be identified (an error other than 'closed meanwhile') is never 'no holder': the process counts as unreadable")
    func unidentifiableDescriptor() throws {
        let fixture = try Fixture()
        let image = try #require(try ProcOpenFileScanner().identity(ofFileAt: fixture.image))
        // fd 7 is a symlink loop: statx fails with ELOOP, as it may with EIO or ESTALE on a real
        // descriptor whose file the kernel cannot revalidate.
        let root = try Self.fakeProc(descriptors: ["7": "7"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let report = try ProcOpenFileScanner(procRoot: root).openers(of: [image])
        #expect(report.openers.isEmpty)
        #expect(report.unreadableProcesses == 1, "an unidentifiable descriptor was taken for 'not the image'")
    }

    /// A file on an anonymous device (tmpfs stands in for CIFS: both have major 0), and the same
    /// file as another mount of its share shows it: same inode (the server's file id), another
    /// device (another superblock).
    static func fileOnAnonymousDevice() throws -> (path: String, onDescriptors: FileIdentity, asTheHookSeesIt: FileIdentity)? {
        let path = "/dev/shm/scanner-\(UUID().uuidString).qcow2"
        guard FileManager.default.createFile(atPath: path, contents: Data("QFI".utf8)) else { return nil }
        guard let identity = try ProcOpenFileScanner().identity(ofFileAt: path), identity.deviceMajor == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            return nil
        }
        var other = identity
        other.deviceMinor += 1000
        return (path, identity, other)
    }

    @Test("a qemu holding the image through another mount of the same SMB share (another superblock, same server inode) is a holder")
    func holderThroughAnotherMountOfTheShare() throws {
        guard let file = try Self.fileOnAnonymousDevice() else { return }
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let device = "\(file.onDescriptors.deviceMajor):\(file.onDescriptors.deviceMinor)"
        let root = try Self.fakeProc(
            descriptors: ["3": "/dev/null", "9": file.path],
            mountinfo: "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n97 25 \(device) / /var/lib/smbvol/mnt/vms-other rw,relatime shared:60 - cifs //10.0.0.9/vms rw,vers=3.1.1\n")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let report = try ProcOpenFileScanner(procRoot: root).openers(of: [file.asTheHookSeesIt])
        #expect(report.openers[file.asTheHookSeesIt]?.map(\.pid) == [999999], "the live local holder was missed: \(report)")
    }

    @Test("the same inode on another anonymous device that is not an SMB mount (tmpfs, a pipe) is not the image")
    func sameInodeOnAnotherFileSystemIsNotTheImage() throws {
        guard let file = try Self.fileOnAnonymousDevice() else { return }
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let device = "\(file.onDescriptors.deviceMajor):\(file.onDescriptors.deviceMinor)"
        let root = try Self.fakeProc(descriptors: ["9": file.path], mountinfo: "30 25 \(device) / /dev/shm rw - tmpfs tmpfs rw\n")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let report = try ProcOpenFileScanner(procRoot: root).openers(of: [file.asTheHookSeesIt])
        #expect(report.openers.isEmpty)
        #expect(report.unreadableProcesses == 0)
    }
}
