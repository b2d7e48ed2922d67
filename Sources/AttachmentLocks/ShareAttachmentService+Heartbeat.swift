import SmbvolShares
import SmbvolSystem

extension ShareAttachmentService {
    /// Whether `share` is mounted now, from the mount table alone (never touches the mount, takes
    /// no flock): the heartbeat asks this and then works on the share without holding the
    /// share's flock, so that a mount or unmount — `unmount --force` of a hung share above all —
    /// never waits for a beat. A `local_path` share is always there.
    public func isMountedNow(_ share: Share) throws -> Bool {
        if share.isLocal { return true }
        return try mounter.isMounted(share)
    }
}
