import Foundation
import SMBMounts
import SmbvolShares
import SmbvolConfig
import Testing

/// Mount options are judged by their effect, not their spelling.
@Suite("Mount option allow-list")
struct MountOptionPolicyTests {
    let builder = MountOptionsBuilder(account: QemuAccount(uid: 64055, gid: 993))

    func problem(_ option: String, allowNobrl: Bool = false) -> MountConfigurationError? {
        do {
            try builder.validate(options: [option], share: "vmstore", allowNobrl: allowNobrl)
            return nil
        } catch let error as MountConfigurationError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test(
        "options with no effect on locking or qemu's access are accepted (the sample configuration's among them)",
        arguments: [
            "vers=3.1.1", "vers=3.0", "VERS=2.1", "vers=default", "seal", "cache=none", "cache=strict", "Cache=None", "sec=krb5i",
            "sec=ntlmssp", "domain=CORP", "hard", "soft", "nolease", "rsize=4194304", "wsize=1048576", "echo_interval=30",
            "actimeo=1", "handletimeout=60000", "persistenthandles", "resilienthandles", "port=445", "nounix", "max_credits=32000",
            "nosharesock", "forcemandatorylock", "serverino", "noacl", "rw", "perm", "ip=10.0.0.5", "cruid=0",
        ])
    func accepted(_ option: String) {
        #expect(problem(option) == nil)
    }

    @Test(
        "options that move byte-range locks to the client need allow_nobrl, whatever their spelling",
        arguments: ["nobrl", "NOBRL", "cache=singleclient", "cache=SingleClient", "CACHE=singleclient"])
    func movesLocks(_ option: String) throws {
        let refused = try #require(problem(option))
        guard case .locksMovedToClient = refused else {
            Issue.record("\(option): \(refused)")
            return
        }
        #expect("\(refused)".contains("allow_nobrl = true"), "\(refused)")
        #expect("\(refused)".contains("cross-host image locking"), "\(refused)")
        #expect(problem(option, allowNobrl: true) == nil)
    }

    @Test(
        "options that set what smbvol owns (ownership, modes, credentials) are refused, allow_nobrl or not",
        arguments: ["uid=0", "gid=0", "forceuid", "ForceGid", "file_mode=0777", "dir_mode=0777", "noforceuid", "cred=/x", "credentials=/x"])
    func owned(_ option: String) throws {
        let refused = try #require(problem(option, allowNobrl: true))
        #expect(refused == .reservedOption(share: "vmstore", option: option))
        #expect("\(refused)".contains("set by smbvol itself"))
    }

    @Test(
        "options with a harmful effect are refused with the reason, allow_nobrl or not",
        arguments: [
            ("noperm", "permission check"), ("NoPerm", "permission check"), ("multiuser", "noperm"), ("cache=loose", "migration source"),
            ("cache=ro", "must write"), ("ro", "must write"), ("vers=1.0", "SMB1"), ("sec=none", "null session"),
            ("nostrictsync", "fsync"), ("locallease", "leases"), ("noserverino", "hard links"), ("unix", "advisory"),
            ("echo_interval=120", "out of range"), ("guest", "credentials file"), ("username=svc", "credentials file"),
            ("dynperm", "qemu's account"), ("snapshot=@GMT-2024.01.01-00.00.00", "read-only"), ("closetimeo=5", "next host"),
        ])
    func harmful(_ option: String, _ reason: String) throws {
        let refused = try #require(problem(option, allowNobrl: true))
        let text = "\(refused)"
        #expect(text.hasPrefix("share vmstore: mount option \"\(option)\""), "\(text)")
        #expect(text.contains(reason), "\(text)")
        #expect(!text.contains("\n"))
    }

    @Test(
        "anything not on the list, and malformed values, are refused with what to do",
        arguments: ["frobnicate", "cache=fast", "vers=4", "seal=yes", "port=http", "rsize=", "domain=a b", "iocharset"])
    func unknown(_ option: String) throws {
        let refused = try #require(problem(option, allowNobrl: true))
        guard case .optionNotAccepted = refused else {
            Issue.record("\(option): \(refused)")
            return
        }
        let text = "\(refused)"
        #expect(text.contains("remove it") || text.contains("use ") || text.contains("needs ") || text.contains("write "), "\(text)")
    }

    @Test("nova connection info: the same list applies to its options (cache=singleclient, noperm refused; vers accepted)")
    func connectionInfo() throws {
        for (options, refusedOption) in [("-o vers=3.1.1,cache=singleclient", "cache=singleclient"), ("-o vers=3.0,noperm", "noperm"), ("-o vers=3.0", nil)] {
            let info = try SMBConnectionInfo(
                json: Array(#"{"driver_volume_type":"smbfs","data":{"export":"//srv/vols","options":"\#(options),username=svc,password=x"}}"#.utf8))
            let share = info.mountableShare(mountBase: "/var/lib/smbvol/mnt")
            if let refusedOption {
                #expect {
                    try builder.arguments(for: share, credentialsFile: "/c")
                } throws: { "\($0)".contains("\"\(refusedOption)\"") }
            } else {
                #expect(throws: Never.self) { try builder.arguments(for: share, credentialsFile: "/c") }
            }
        }
    }

    @Test("the sample configuration and the demo pass the guard (every `options = [...]` line in them)")
    func shippedConfigurations() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        var checked = 0
        for file in ["etc/smbvol/smbvol.toml", "scripts/demo"] {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            let lines = text.split(separator: "\n").filter { $0.trimmingPrefix(while: \.isWhitespace).hasPrefix("options = [") }
            #expect(!lines.isEmpty, "\(file) has no options line any more: update this test")
            for line in lines {
                let options = line.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
                #expect(throws: Never.self, "\(file): \(line)") {
                    try builder.validate(options: options, share: file, allowNobrl: false)
                }
                checked += options.count
            }
        }
        #expect(checked >= 5)
    }
}
