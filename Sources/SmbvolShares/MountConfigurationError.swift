/// Something wrong with a share's definition or connection info: found before anything runs.
public enum MountConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidExport(String)
    case unknownShare(name: String, known: [String])
    case optionInjection(share: String, option: String, reason: String)
    case sharedDirectory(directory: String, shares: [String])
    case reservedOption(share: String, option: String)
    /// An option that moves byte-range locks to this client, without the share's `allow_nobrl`.
    case locksMovedToClient(share: String, option: String, why: String)
    /// An option outside smbvol's allow-list, or with a value it does not accept.
    case optionNotAccepted(share: String, option: String, reason: String)
    case passwordInConfiguration(share: String)
    case missingCredentials(share: String)
    case invalidConnectionInfo(String)
    case unknownQemuAccount(kind: String, name: String)
    /// A share known only from lock records asked for its export (to be mounted, or found on
    /// its cluster): records keep a share's name and directory only.
    case exportNotRecorded(share: String, mountPoint: String)

    public var description: String {
        switch self {
        case .invalidExport(let text):
            return "export \"\(text)\" is not of the form //server/share[/subdir] (and must not contain ',' or a newline)"
        case .unknownShare(let name, let known):
            let list = known.isEmpty ? "none are configured" : "configured: \(known.sorted().joined(separator: ", "))"
            return "no share named \"\(name)\" in the configuration (\(list))"
        case .sharedDirectory(let directory, let shares):
            return "shares \(shares.joined(separator: " and ")) both use \(directory) as their directory; give each share its own mount_point"
        case .optionInjection(let share, let option, let reason):
            return "share \(share): mount option \"\(option.debugEscaped)\" \(reason); give one plain option per list element"
        case .reservedOption(let share, let option):
            return "share \(share): mount option \"\(option.debugEscaped)\" is set by smbvol itself "
                + "(credentials, uid, gid, forceuid, forcegid, file_mode, dir_mode: qemu's account and modes); remove it from the share's options"
        case .locksMovedToClient(let share, let option, let why):
            return "share \(share): mount option \"\(option.debugEscaped)\" is refused because it \(why) and so disables "
                + "qemu's cross-host image locking; set allow_nobrl = true for the share to accept that risk"
        case .optionNotAccepted(let share, let option, let reason):
            return "share \(share): mount option \"\(option.debugEscaped)\" \(reason)"
        case .passwordInConfiguration(let share):
            return "share \(share): mount options must not carry a password; put it in a mount.cifs credentials file "
                + "(mode 0600) and name it with credentials = \"/etc/smbvol/\(share).cred\""
        case .missingCredentials(let share):
            return "share \(share) has no credentials file: set credentials = \"/etc/smbvol/\(share).cred\" "
                + "(mount.cifs format: username=…, password=…, domain=…; mode 0600)"
        case .invalidConnectionInfo(let reason):
            return "connection info rejected: \(reason)"
        case .unknownQemuAccount(let kind, let name):
            return "qemu \(kind) \"\(name)\" does not exist on this host: set qemu_\(kind) in smbvol.toml "
                + "to the account libvirt runs qemu as"
        case .exportNotRecorded(let share, let mountPoint):
            return "share \(share) (\(mountPoint)) is known only from attachment lock records, which do not keep its export: "
                + "it can be unmounted or listed, not mounted; configure it or attach it with its connection info"
        }
    }
}

extension String {
    /// Newlines and control characters made visible, so an error stays one line.
    package var debugEscaped: String {
        String(unicodeScalars.flatMap { scalar -> [Character] in
            scalar.value < 0x20 || scalar.value == 0x7f ? Array(scalar.escaped(asASCII: true)) : [Character(scalar)]
        })
    }
}
