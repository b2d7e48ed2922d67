import SmbvolShares
/// Which mount.cifs options smbvol accepts from a share's configuration and from nova's
/// connection info, judged by what each does — to byte-range locking (how qemu stops two hosts
/// writing one image), to data reaching the server, to ownership and permissions (qemu's access,
/// set by smbvol), and to the evidence lock hygiene reads. Spelling is not trusted: every name
/// is compared lowercased, every value checked, and anything not listed here is refused.
///
/// docs/configuration.md ("Mount options") lists the same table for operators.
public enum MountOptionPolicy {
    /// What a listed option does, as far as smbvol is concerned.
    enum Rule: Sendable {
        /// No effect on locking, durability or access: accepted when its value is.
        case accepted(MountOptionValue)
        /// Moves byte-range locks (or their checking) from the server to this client: accepted
        /// only with the share's `allow_nobrl = true`.
        case movesLocksToClient(why: String)
        /// Set by smbvol itself (ownership, modes, credentials): never from configuration.
        case ownedBySmbvol
        /// Refused whatever the share says: why, and what to do instead.
        case refused(why: String)
    }

    /// One accepted option's value: none, one of a set, or a number in a range.
    enum MountOptionValue: Sendable {
        case flag
        case oneOf(Set<String>, refused: [String: String] = [:])
        case integer(ClosedRange<Int>)
        /// A name or address token (letters, digits, `.-_:@`), e.g. `domain=CORP`, `ip=10.0.0.1`.
        case token
    }

    static let ownershipWhy = "file ownership and modes are smbvol's (qemu's account, 0660/0770)"

    /// Every option smbvol knows, by lowercased name. Anything else is refused.
    static let rules: [String: Rule] = {
        var rules: [String: Rule] = [:]
        func add(_ names: [String], _ rule: Rule) { for name in names { rules[name] = rule } }

        // Protocol, authentication, transport: nothing to do with locks or qemu's access.
        add(
            ["vers"],
            .accepted(
                .oneOf(
                    ["2.0", "2.1", "3", "3.0", "3.02", "3.0.2", "3.1.1", "3.11", "default"],
                    refused: [
                        "1.0": "SMB1 lets the server's Unix extensions override smbvol's uid/gid/modes and makes byte-range "
                            + "locks advisory POSIX locks; use vers=3.1.1 (or 3.0, 2.1)"
                    ])))
        add(
            ["sec"],
            .accepted(
                .oneOf(
                    ["krb5", "krb5i", "ntlm", "ntlmi", "ntlmv2", "ntlmv2i", "ntlmssp", "ntlmsspi"],
                    refused: [
                        "none": "a null session has no account, so the cluster cannot tell whose handles are whose; "
                            + "use the default (ntlmssp) or krb5 with a credentials file"
                    ])))
        add(["seal", "sign", "domainauto", "nosharesock", "noautotune", "handlecache", "nohandlecache", "rdma", "multichannel"], .accepted(.flag))
        add(["resilienthandles", "noresilienthandles", "persistenthandles", "nopersistenthandles"], .accepted(.flag))
        add(["hard", "soft", "intr", "nointr", "rw", "perm", "serverino", "forcemandatorylock", "nolease"], .accepted(.flag))
        add(["nounix", "noposix", "nolinux", "noacl", "nouser_xattr", "mapchars", "nomapchars", "mapposix", "mfsymlinks", "nodfs"], .accepted(.flag))
        add(["domain", "dom", "workgroup", "ip", "addr", "netbiosname", "servern", "iocharset", "cruid"], .accepted(.token))
        add(["cache"], .accepted(.oneOf(["strict", "none"], refused: [:])))  // singleclient, loose, ro: below
        add(["port"], .accepted(.integer(1...65535)))
        add(["rsize", "wsize"], .accepted(.integer(1...(16 << 20))))
        add(["bsize"], .accepted(.integer((16 << 10)...(16 << 20))))
        add(["max_credits"], .accepted(.integer(20...60000)))
        add(["max_channels"], .accepted(.integer(1...16)))
        add(["handletimeout"], .accepted(.integer(0...960_000)))
        add(["actimeo", "acregmax", "acdirmax"], .accepted(.integer(0...60)))
        // Session liveness is judged by idle time (stale_after_seconds, 3 × the default echo):
        // a slower echo would make a live, quiet host look dead to the other hosts.
        add(["echo_interval"], .accepted(.integer(1...60)))

        // Byte-range locks kept on (or decided by) this client: the other hosts never see them.
        add(["nobrl"], .movesLocksToClient(why: "keeps byte-range locks off the server"))

        // smbvol's own: qemu's account and modes, the credentials file.
        add(
            ["uid", "gid", "forceuid", "forcegid", "noforceuid", "noforcegid", "file_mode", "dir_mode", "credentials", "cred"],
            .ownedBySmbvol)

        let permissions = "changes who may open the images on this host, which smbvol sets (qemu's account, 0660/0770)"
        add(["noperm"], .refused(why: "switches off the client's permission check, so every local user can read and write the images; remove it"))
        add(["multiuser"], .refused(why: "implies noperm and opens a session per local user; remove it"))
        add(["dynperm", "setuids", "nosetuids", "idsfromsid", "cifsacl", "backupuid", "backupgid"], .refused(why: permissions + "; remove it"))
        add(["posix", "unix", "linux"], .refused(why: "takes ownership and modes from the server (overriding smbvol's) and makes byte-range locks advisory; remove it"))
        add(["ro"], .refused(why: "qemu must write its images; remove it (a read-only disk is <readonly/> in the domain XML)"))
        add(["snapshot"], .refused(why: "a snapshot is read-only and qemu must write its images; remove it"))
        add(["guest"], .refused(why: "a guest session has no account, so the cluster cannot tell whose handles are whose; use a credentials file"))
        add(["nostrictsync"], .refused(why: "fsync no longer reaches the server, so a guest's flushed writes can be lost with a host; remove it"))
        add(["locallease"], .refused(why: "checks leases on this client instead of asking the server, so another host's opens can go unseen; remove it"))
        add(["noserverino"], .refused(why: "inode numbers made up by the client hide hard links of an image from smbvol's local-holder check; remove it"))
        add(["nocase", "ignorecase"], .refused(why: "two spellings of one path would name one image; remove it"))
        add(["fsc"], .refused(why: "caches image data on a local disk behind the server's back; remove it"))
        add(["closetimeo"], .refused(why: "keeps a closed image's handle open on the server, where the next host sees a holder; remove it"))
        add(["user", "username"], .refused(why: "the account belongs in the credentials file (username=…); remove it"))
        return rules
    }()

    /// `cache=` values with their own verdicts (the rule above accepts strict and none).
    static let cacheVerdicts: [String: Rule] = [
        "singleclient": .movesLocksToClient(why: "assumes no other client uses the share, keeping byte-range locks on this client"),
        "loose": .refused(why: "caches image data with no lease, so another host's writes (a migration source) can go unseen; use cache=none or cache=strict"),
        "ro": .refused(why: "is for read-only shares and qemu must write its images; use cache=none or cache=strict"),
    ]

    /// Why `option` (one `name[=value]`, already free of separators) is refused, or nil when it
    /// is accepted. `allowNobrl`: the share accepts options that move locks to the client.
    static func problem(with option: String, share: String, allowNobrl: Bool) -> MountConfigurationError? {
        let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0]).lowercased()
        let value = parts.count > 1 ? String(parts[1]) : nil
        var rule = rules[name]
        if name == "cache", let value, let verdict = cacheVerdicts[value.lowercased()] { rule = verdict }
        guard let rule else {
            return .optionNotAccepted(
                share: share, option: option,
                reason: "is not one smbvol accepts (its effect on locking and on qemu's access has not been reviewed); "
                    + "remove it (README \"Mount options\" lists the accepted ones)")
        }
        switch rule {
        case .ownedBySmbvol:
            return .reservedOption(share: share, option: option)
        case .refused(let why):
            return .optionNotAccepted(share: share, option: option, reason: "is refused: it \(why)")
        case .movesLocksToClient(let why):
            return allowNobrl ? nil : .locksMovedToClient(share: share, option: option, why: why)
        case .accepted(let kind):
            return valueProblem(kind, name: name, value: value).map {
                .optionNotAccepted(share: share, option: option, reason: $0)
            }
        }
    }

    private static func valueProblem(_ kind: MountOptionValue, name: String, value: String?) -> String? {
        switch kind {
        case .flag:
            return value == nil ? nil : "takes no value; write \(name) alone"
        case .oneOf(let allowed, let refused):
            guard let value, !value.isEmpty else { return "needs a value (\(name)=…)" }
            if let why = refused[value.lowercased()] { return "is refused: \(why)" }
            guard allowed.contains(value.lowercased()) else {
                return "has a value smbvol does not accept; use one of \(allowed.sorted().joined(separator: ", "))"
            }
            return nil
        case .integer(let range):
            guard let value, let number = Int(value), value.allSatisfy(\.isASCII) else {
                return "needs a whole number (\(name)=\(range.lowerBound)…\(range.upperBound))"
            }
            return range.contains(number) ? nil : "is out of range; use \(range.lowerBound)…\(range.upperBound)"
        case .token:
            guard let value, !value.isEmpty else { return "needs a value (\(name)=…)" }
            let allowed = value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-_:@".contains($0)) }
            return allowed ? nil : "has a value that is not letters, digits and . - _ : @; use a plain name or address"
        }
    }
}
