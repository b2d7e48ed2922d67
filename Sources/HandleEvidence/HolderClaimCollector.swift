import HostHeartbeat
import LockHygiene
import SmbvolSystem

/// Reads the holder claims on an image from its share and turns them into facts for the
/// judgement: one listing of the image's claim directory (`.smbvol/images/<key>/`) and one read
/// per claim in it, so the cost of a start does not grow with the number of hosts on the share.
/// No cluster is asked.
public struct HolderClaimCollector: Sendable {
    public var store: HolderClaimStore
    public var clock: any MonotonicClock

    public init(store: HolderClaimStore = HolderClaimStore(), clock: any MonotonicClock = SystemClock()) {
        self.store = store
        self.clock = clock
    }

    /// - Parameters:
    ///   - shareDirectory: the share's mount point or `local_path` (its root).
    ///   - imagePath: the image below the share root, after in-share symlinks.
    /// - Returns: the observations, and how many claim files were left unread (missing
    ///   evidence, `.unread` observations: a refusal at worst, never a close).
    public func gather(shareDirectory: String, imagePath: String) -> (observations: [HolderClaimObservation], notRead: Int) {
        let now = clock.wallClockSeconds()
        let (entries, notRead) = store.claims(imagePath: imagePath, shareRoot: shareDirectory)
        let observations = entries.map { entry -> HolderClaimObservation in
            switch entry {
            case .unusable(let file, let reason):
                return .unusable(file: file, reason: reason)
            case .unread(let file, let reason):
                return .unread(file: file, reason: reason)
            case .claim(let claim, let file, let dropped):
                return .claim(
                    HolderClaimFact(
                        hostID: claim.hostID, hostname: claim.hostname, addresses: ClientAddress.canonical(claim.addresses).sorted(),
                        domainName: claim.domainName, domainUUID: claim.domainUUID, writtenAt: claim.writtenAtText, ageSeconds: now - claim.writtenAt,
                        file: file, droppedEntries: dropped.map(\.description)))
            }
        }
        return (observations, notRead)
    }
}
