import SmbvolSystem

/// The mount or umount program failed; messages explain mount.cifs's common failures in a line.
public enum MountCommandError: Error, Equatable, Sendable, CustomStringConvertible {
    case mountFailed(export: String, mountPoint: String, status: Int32, kernelError: Int32?, detail: String)
    case mountTimedOut(export: String, mountPoint: String, seconds: Double)
    case mountKilled(export: String, signal: Int32)
    case notInMountTable(export: String, mountPoint: String)
    case foreignMount(mountPoint: String, found: String, expected: String)
    /// An unmount refused: what is mounted there is not this share's mount.
    case notOurMount(mountPoint: String, share: String, found: String, expected: String?)
    case unmountBusy(mountPoint: String, share: String)
    case unmountFailed(mountPoint: String, status: Int32, detail: String)
    case unmountTimedOut(mountPoint: String)
    case deadMountNotRemoved(mountPoint: String, cause: String)
    case mountHung(share: String, mountPoint: String, seconds: Double)

    public var description: String {
        switch self {
        case .mountFailed(let export, let mountPoint, let status, let kernelError, let detail):
            switch kernelError ?? status {
            case 13:
                return "mounting \(export) was refused (mount error 13, permission denied): check the username, password "
                    + "and domain in the credentials file and the share's permissions for that user"
            case 112:
                return "mounting \(export) failed (mount error 112, host down): the server is unreachable or no SMB dialect "
                    + "both sides accept was found; check the network and the share's vers= option"
            case 111:
                return "mounting \(export) failed (mount error 111, connection refused): nothing accepts SMB connections "
                    + "at the server's address and port; check that the SMB service runs there and the share's port= option"
            case 2:
                return "mounting \(export) failed (mount error 2, no such share): check the server and share name in the export"
            default:
                let suffix = detail.isEmpty ? "" : ": \(detail)"
                return "mounting \(export) at \(mountPoint) failed (exit status \(status))\(suffix)"
            }
        case .mountTimedOut(let export, let mountPoint, let seconds):
            return "mounting \(export) at \(mountPoint) did not finish within \(Int(seconds)) s and was killed; "
                + "check that the server is reachable (or raise mount_timeout_seconds)"
        case .mountKilled(let export, let signal):
            return "the mount program for \(export) was killed by signal \(signal)"
        case .notInMountTable(let export, let mountPoint):
            return "the mount program reported success for \(export) but \(mountPoint) is not in the mount table; "
                + "check mount_command"
        case .foreignMount(let mountPoint, let found, let expected):
            return "\(mountPoint) already has \(found) mounted on it, not \(expected): unmount it or set another "
                + "mount_point for the share"
        case .notOurMount(let mountPoint, let share, let found, let expected):
            return "refusing to unmount \(mountPoint) for share \(share): \(found) is mounted there, "
                + (expected.map { "not \($0)" } ?? "not a mount smbvol made") + "; nothing was unmounted or removed"
        case .unmountBusy(let mountPoint, let share):
            return "cannot unmount share \(share) at \(mountPoint): target is busy (files are still open there); "
                + "stop what uses it, or use --force for a lazy unmount"
        case .unmountFailed(let mountPoint, let status, let detail):
            return "unmounting \(mountPoint) failed (exit status \(status)): \(detail)"
        case .unmountTimedOut(let mountPoint):
            return "unmounting \(mountPoint) did not finish in time and was killed"
        case .mountHung(let share, let mountPoint, let seconds):
            return "share \(share) at \(mountPoint) does not answer (statfs gave no reply within \(Int(seconds)) s): its "
                + "SMB server or the connection to it hangs; check the server, or detach the mount by hand "
                + "(`umount -f -l \(mountPoint)`) once nothing uses it"
        case .deadMountNotRemoved(let mountPoint, let cause):
            return "the mount at \(mountPoint) is dead (\(cause)) and could not be unmounted; unmount it by hand "
                + "(`umount \(mountPoint)`)"
        }
    }

    /// mount.cifs exits 32 and prints `mount error(13): Permission denied`; the kernel's errno
    /// in the message is the informative part.
    static func kernelError(in text: String) -> Int32? {
        guard let range = text.firstRange(of: "mount error(") else { return nil }
        let digits = text[range.upperBound...].prefix(while: \.isNumber)
        return Int32(digits)
    }
}
