import HostHeartbeat
import LockHygiene
import SmbvolSystem
import Synchronization

/// Reads the holder claims on an image from its share and turns them into facts for the
/// judgement: one listing of the image's claim directory (`.smbvol/images/<key>/`) and one read
/// per claim in it, so the cost of a start does not grow with the number of hosts on the share.
/// No cluster is asked.
public struct HolderClaimCollector: Sendable {
    public var store: HolderClaimStore
    public var clock: any MonotonicClock
    /// How long one image's claims may take to read. A share that hangs after the start's
    /// hung-mount check would otherwise hold the start until the watchdog ends it — with
    /// `on_cluster_error = "continue"` as a success that read no claim. Past the bound the
    /// claims count as unread (a refusal, never a close), and the share is not waited for again
    /// in this run.
    public var boundSeconds: Double = 5
    private let hungShares = HungShareDirectories()

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
        let directory = HeartbeatLayout.claimDirectory(imagePath: imagePath).joined(separator: "/")
        guard !hungShares.contains(shareDirectory) else {
            return ([.unread(file: directory, reason: "the share did not answer earlier in this run (hung?)")], 1)
        }
        let store = self.store
        guard let work = BoundedWork.start({ store.claims(imagePath: imagePath, shareRoot: shareDirectory) }),
            let (entries, notRead) = work.wait(seconds: boundSeconds)
        else {
            hungShares.insert(shareDirectory)
            return ([.unread(file: directory, reason: "the share did not answer within \(boundSeconds) s (hung?)")], 1)
        }
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

/// Shares whose claim reads did not finish in time during this run.
private final class HungShareDirectories: Sendable {
    private let directories = Mutex<Set<String>>([])
    func contains(_ directory: String) -> Bool { directories.withLock { $0.contains(directory) } }
    func insert(_ directory: String) { _ = directories.withLock { $0.insert(directory) } }
}
