/// What the cluster says about this host's own handle on a file.
public enum OwnHandleStatus: Sendable, Equatable {
    /// No handle on the file is held from this host's addresses (by the grants).
    case gone
    /// A handle is still held from one of this host's addresses; `otherHolders`: the other
    /// addresses holding grants on the file at the same time.
    case stillHeld(addresses: [String], otherHolders: [String] = [])
    /// The cluster could not be asked, or could not tell (no grants, an incomplete listing).
    case unknown(String)
}

/// This host's use of an image, as the takeover judgement needs it: the use cases fill it from
/// the attachment lock that holds the image.
public struct LocalImageUse: Sendable, Equatable {
    /// The lock's id, for messages.
    public var lockID: String
    /// The image's cluster file number, once a start learnt it.
    public var fileNumber: String?
    /// The latest instant (seconds since the epoch) the domain may have begun using the image;
    /// nil when it cannot be dated.
    public var since: Double?
    /// That instant as recorded, for messages.
    public var sinceText: String

    public init(lockID: String, fileNumber: String?, since: Double?, sinceText: String) {
        self.lockID = lockID
        self.fileNumber = fileNumber
        self.since = since
        self.sinceText = sinceText
    }
}

/// "Should the heartbeat service stop this domain?", for one takeover record and one of this
/// host's attachment locks — pure: the cluster is asked through `ownHandle`, and only once every
/// other condition holds.
///
/// A record stops a domain only when all of these hold:
/// - it names the image the lock holds (the same cluster file number);
/// - it was not written by this host (the new holder's host_id is not this host's);
/// - it names this host as the old holder (this host_id, or one of its addresses);
/// - it is newer than the lock (`recorded_at`, else `created_at`): a takeover before this
///   host's domain started using the image is history;
/// - it is not dated in the future (beyond a clock skew);
/// - the cluster confirms that no handle on the file is held from this host's addresses (a
///   record written for a stale claim, with no handle closed, counts the same: the new holder
///   took the image while this host had no handle on it) — or
///   that this host holds it again *beside the record's new holder*: SMB clients reopen a
///   force-closed file on their own (smbnetfs within seconds, the kernel's client after a
///   reconnect), so the heartbeat may find a new handle of this host's that the takeover never
///   saw. Two hosts holding one image is the split-brain itself; a record naming a new holder
///   that does not hold the file stops nothing.
///
/// The first three failing mean the record is not about this domain (`ignore`); the others
/// leave the domain running with a warning (`warn`).
public enum TakeoverJudgement {
    public enum Verdict: Sendable, Equatable {
        case stop(String)
        case warn(String)
        case ignore(String)
    }

    /// Tolerated clock difference between hosts for a record "from the future".
    public static let clockSkewSeconds: Double = 300

    public static func judge(
        _ record: TakeoverRecord, use lock: LocalImageUse, localHostID: String, localAddresses: Set<String>, now: Double,
        ownHandle: () -> OwnHandleStatus
    ) -> Verdict {
        guard let fileNumber = lock.fileNumber, fileNumber == record.fileNumber else {
            return .ignore("the record is about file \(record.fileNumber), not this lock's image")
        }
        // By host_id only: hosts on one machine or behind one NAT share interface addresses,
        // and the cluster check below is what guards against a wrong record anyway.
        if record.newHolder.hostID == localHostID {
            return .ignore("this host is the new holder")
        }
        guard record.oldHolder.hostID == localHostID || !localAddresses.isDisjoint(with: record.oldHolder.addresses) else {
            return .ignore("the old holder is another host")
        }
        guard let lockTime = lock.since else {
            return .warn("the domain's lock \(lock.lockID) cannot be dated: not stopped")
        }
        guard record.takenAt > lockTime else {
            return .warn("the takeover (\(record.takenAtText)) is older than the domain's use of the image (lock \(lock.lockID) recorded \(lock.sinceText)): not stopped")
        }
        guard record.takenAt <= now + clockSkewSeconds else {
            return .warn("the takeover is dated in the future (\(record.takenAtText)): not stopped")
        }
        switch ownHandle() {
        case .gone:
            return .stop("the cluster confirms this host's handle on file \(fileNumber) is gone")
        case .stillHeld(let addresses, let others) where !Set(others).isDisjoint(with: record.newHolder.addresses):
            let both = Set(others).intersection(record.newHolder.addresses).sorted().joined(separator: ", ")
            return .stop(
                "this host holds file \(fileNumber) again (from \(addresses.joined(separator: ", "))) beside the new holder (\(both)): its SMB client reopened the image after the takeover")
        case .stillHeld(let addresses, _) where record.closedHandles.isEmpty:
            // A stale claim taken over: no handle of this host was closed, so its own handle
            // proves nothing until the new holder holds the file beside it (checked every beat).
            return .warn(
                "this host still holds a handle on file \(fileNumber) (from \(addresses.joined(separator: ", "))) and the record's new holder does not hold it yet (a claim taken over, no handle closed: its start may not have opened the image, or failed); not stopped")
        case .stillHeld(let addresses, _):
            return .warn("this host still holds a handle on file \(fileNumber) (from \(addresses.joined(separator: ", "))): the record is wrong or forged; not stopped")
        case .unknown(let reason):
            return .warn("cannot confirm with the cluster that this host's handle is gone (\(reason)): not stopped")
        }
    }
}
