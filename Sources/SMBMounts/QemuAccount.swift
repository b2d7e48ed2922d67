import SmbvolShares
import SmbvolConfig
import SmbvolSystem

/// The numeric uid/gid qemu runs as, passed to mount.cifs so qemu owns the files it opens.
public struct QemuAccount: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }
}

/// Name → id lookups (getpwnam_r/getgrnam_r in production).
public protocol AccountDatabase: Sendable {
    func userID(named name: String) -> UInt32?
    func groupID(named name: String) -> UInt32?
}

public struct SystemAccountDatabase: AccountDatabase {
    public init() {}

    public func userID(named name: String) -> UInt32? { UserAccounts.userID(named: name) }

    public func groupID(named name: String) -> UInt32? { UserAccounts.groupID(named: name) }
}

/// Resolves the qemu account: `qemu_user`/`qemu_group` from smbvol.toml, else `user =`/`group =`
/// in /etc/libvirt/qemu.conf, else `libvirt-qemu`/`kvm` (Debian's defaults). Numeric values and
/// libvirt's `+N` form are taken as ids.
public struct QemuAccountResolver: Sendable {
    public var configuredUser: String?
    public var configuredGroup: String?
    public var qemuConfPath: String
    public var database: any AccountDatabase

    public init(
        configuration: SmbvolConfiguration, qemuConfPath: String = "/etc/libvirt/qemu.conf",
        database: any AccountDatabase = SystemAccountDatabase()
    ) {
        configuredUser = configuration.qemuUser
        configuredGroup = configuration.qemuGroup
        self.qemuConfPath = qemuConfPath
        self.database = database
    }

    public func resolve() throws -> QemuAccount {
        let libvirt = (try? readWholeFileText(qemuConfPath)).map(Self.parseQemuConf) ?? [:]
        let user = configuredUser ?? libvirt["user"] ?? "libvirt-qemu"
        let group = configuredGroup ?? libvirt["group"] ?? "kvm"
        guard let uid = Self.numeric(user) ?? database.userID(named: user) else {
            throw MountConfigurationError.unknownQemuAccount(kind: "user", name: user)
        }
        guard let gid = Self.numeric(group) ?? database.groupID(named: group) else {
            throw MountConfigurationError.unknownQemuAccount(kind: "group", name: group)
        }
        return QemuAccount(uid: uid, gid: gid)
    }

    /// `user = "root"` / `group = "kvm"` lines of qemu.conf (comments ignored).
    static func parseQemuConf(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let parts = content.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " \t") }
            guard parts.count == 2, parts[0] == "user" || parts[0] == "group" else { continue }
            values[parts[0]] = parts[1].trimmingCharacters(in: "\"'")
        }
        return values
    }

    static func numeric(_ text: String) -> UInt32? {
        UInt32(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        String(drop(while: { set.contains($0) }).reversed().drop(while: { set.contains($0) }).reversed())
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String { Substring(self).trimmingCharacters(in: set) }
}

func readWholeFileText(_ path: String) throws -> String {
    String(decoding: try readWholeFile(path), as: UTF8.self)
}
