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
        #expect(report.unreadableProcesses == 0)
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
}
