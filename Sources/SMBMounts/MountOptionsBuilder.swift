import SmbvolShares
/// Builds the argv of `mount_command <export> <mount point> -o <options>`.
///
/// Options, in this order: `credentials=<file>` (the password never reaches a command line,
/// which every local user can read in /proc), `uid=`/`gid=` of the qemu account (qemu opens
/// the images as that user), `file_mode=0660,dir_mode=0770` (qemu and its group read and
/// write, nobody else), then the share's own options after validation.
public struct MountOptionsBuilder: Sendable {
    public var account: QemuAccount

    public init(account: QemuAccount) { self.account = account }

    public func arguments(for share: Share, credentialsFile: String) throws -> [String] {
        try validate(options: share.options, share: share.name, allowNobrl: share.allowNobrl)
        // Every value joined into `-o` is checked, not only the share's options: a credentials
        // path `/etc/a,sec=none,nobrl` would otherwise slip options past every rule above.
        if let reason = MountOptionText.separatorProblem(in: credentialsFile) {
            throw MountConfigurationError.optionInjection(share: share.name, option: "credentials=\(credentialsFile)", reason: reason)
        }
        let fixed = [
            "credentials=\(credentialsFile)", "uid=\(account.uid)", "gid=\(account.gid)",
            "file_mode=0660", "dir_mode=0770",
        ]
        return [try share.requiredExport().commandForm, share.mountPoint, "-o", (fixed + share.options).joined(separator: ",")]
    }

    /// Rejects options that could smuggle another option in or carry a password, then judges
    /// each by its effect (`MountOptionPolicy`): options that override what smbvol sets, that
    /// are not on its list, or (unless `allowNobrl`) that move byte-range locks to the client.
    public func validate(options: [String], share: String, allowNobrl: Bool) throws {
        for option in options {
            if option.isEmpty {
                throw MountConfigurationError.optionInjection(share: share, option: option, reason: "is empty")
            }
            if let reason = MountOptionText.separatorProblem(in: option) {
                throw MountConfigurationError.optionInjection(share: share, option: option, reason: reason)
            }
            let name = Self.optionName(option)
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw MountConfigurationError.optionInjection(
                    share: share, option: option, reason: "has a name that is not letters, digits and '_'")
            }
            if name == "password" || name == "pass" || name == "password2" {
                throw MountConfigurationError.passwordInConfiguration(share: share)
            }
            if let problem = MountOptionPolicy.problem(with: option, share: share, allowNobrl: allowNobrl) {
                throw problem
            }
        }
    }

    static func optionName(_ option: String) -> String {
        String(option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").lowercased()
    }
}
