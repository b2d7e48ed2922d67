import SmbvolSystem

/// Holder claims on a share (`.smbvol/images/<image key>/<host_id>.json`), with the heartbeat
/// records' no-follow atomic writer and bounded reader. A host writes and removes only its own
/// file; other hosts' claims are only read (a leftover simply goes stale).
public struct HolderClaimStore: Sendable {
    /// An image normally has one claim (two during a migration). The newest this many (by
    /// modification time) are read; a live holder rewrites its claim every beat, so it is among
    /// them — unless files dated later crowd it out: claim files left unread are `.unread`
    /// entries (missing evidence, which refuses a start).
    public static let maximumClaimsRead = 32
    /// Names listed per image directory.
    public static let maximumListedEntries = 10_000

    public enum Entry: Sendable, Equatable {
        /// A claim on the image asked about, the file it came from (below the share root) and
        /// the entries of it that were dropped.
        case claim(HolderClaim, file: String, dropped: [DroppedHeartbeatEntry])
        case unusable(file: String, reason: String)
        /// What may hide a live holder's claim: the image's claim directory that could not be
        /// listed (or only in part), claim files left unread (a crowded directory), a claim
        /// file that could not be read (an I/O error), or an entry with a host's claim name
        /// that is no regular file (a directory or FIFO there makes that host's every rewrite
        /// fail). Unlike a malformed, oversized or symlinked file — which the host's next beat
        /// replaces — nothing says there is no live claim behind it.
        case unread(file: String, reason: String)
    }

    public var fileSystem: any ShareFileSystem

    public init(fileSystem: any ShareFileSystem = NoFollowShareFileSystem()) { self.fileSystem = fileSystem }

    /// Writes (replaces) this host's claim; returns what was published and the file.
    @discardableResult
    public func write(_ claim: HolderClaim, shareRoot: String) throws -> (published: HolderClaim.Publishable, file: String) {
        let published = try claim.publishable()
        let directory = HeartbeatLayout.claimDirectory(imagePath: published.claim.imagePath)
        let name = HeartbeatLayout.hostFileName(hostID: published.claim.hostID)
        try fileSystem.replaceFile(root: shareRoot, directory: directory, name: name, bytes: published.bytes)
        return (published, (directory + [name]).joined(separator: "/"))
    }

    /// Removes this host's claim on the image (its own file only; none there is no error).
    public func remove(hostID: String, imagePath: String, shareRoot: String) throws {
        guard HostIdentity.isValidHostID(hostID) else { return }
        try fileSystem.removeFile(
            root: shareRoot, directory: HeartbeatLayout.claimDirectory(imagePath: imagePath), name: HeartbeatLayout.hostFileName(hostID: hostID))
    }

    /// Sweeps the image's claim directory of what is old: other hosts' claims, temporaries and
    /// junk whose modification time and, for a readable claim, whose `written_at` are both
    /// older than `olderThanSeconds`, and this host's own leftover temporaries. Nothing fresh is
    /// removed, whoever wrote it. Run by a host that claims the image (the directories it
    /// writes), so a dead host's claims go once another host holds the image.
    ///
    /// - Returns: the files removed (below the share root).
    @discardableResult
    public func sweep(imagePath: String, hostID: String, shareRoot: String, now: Double, olderThanSeconds: Double) -> [String] {
        let directory = HeartbeatLayout.claimDirectory(imagePath: imagePath)
        let fileSystem = self.fileSystem
        return fileSystem.sweepHostFiles(
            in: directory, root: shareRoot, ownName: HeartbeatLayout.hostFileName(hostID: hostID), now: now, olderThanSeconds: olderThanSeconds,
            listLimit: Self.maximumListedEntries
        ) { name in
            let bytes = try? fileSystem.readFile(root: shareRoot, path: directory + [name], limit: HolderClaim.maximumBytes)
            return bytes.flatMap { try? HolderClaim.decode($0) }?.writtenAt
        }
    }

    /// The claims on the image at `imagePath` (below the share root): one listing of its
    /// directory, then one read for each of the newest `maximumClaimsRead` entries. A bad,
    /// oversized, symlinked or malformed file, a claim whose host is not the one its file is
    /// named for, or one about another image (a key collision, a forgery), is an `.unusable`
    /// entry alone; what may hide a claim is an `.unread` one. `notRead`: claim files (or
    /// listings) that could not be read.
    public func claims(imagePath: String, shareRoot: String) -> (entries: [Entry], notRead: Int) {
        let expected: String
        switch HeartbeatRecord.normalizedImagePath(imagePath) {
        case .success(let path): expected = path
        case .failure(let problem): return ([.unusable(file: imagePath, reason: "not a path below the share: \(problem.reason)")], 0)
        }
        let directory = HeartbeatLayout.claimDirectory(imagePath: expected)
        let shown = directory.joined(separator: "/")
        let files: NewestHostFiles
        do {
            files = NewestHostFiles(
                try fileSystem.listEntriesIfAny(root: shareRoot, path: directory, limit: Self.maximumListedEntries), readLimit: Self.maximumClaimsRead)
        } catch {
            return ([.unread(file: shown, reason: "the claim directory could not be listed: \(error)")], 1)
        }
        var result: [Entry] = []
        var unreadFiles = 0
        if files.truncated {
            result.append(.unread(file: shown, reason: "more than \(Self.maximumListedEntries) entries: only the first listed were considered"))
        }
        for candidate in files.toRead {
            let file = shown + "/" + candidate.name
            let hostID = String(candidate.name.dropLast(5))
            do {
                let bytes = try fileSystem.readFile(root: shareRoot, path: directory + [candidate.name], limit: HolderClaim.maximumBytes)
                let decoded = try HolderClaim.decodeReporting(bytes)
                guard decoded.claim.hostID == hostID else {
                    result.append(.unusable(file: file, reason: "the file is named for host \(hostID) but the claim is of host \(decoded.claim.hostID)"))
                    continue
                }
                guard HeartbeatLayout.isSameImage(decoded.claim.imagePath, expected) else {
                    result.append(
                        .unusable(
                            file: file, reason: "the claim is about \(DroppedHeartbeatEntry.shown(decoded.claim.imagePath)), not \(DroppedHeartbeatEntry.shown(expected))"))
                    continue
                }
                result.append(.claim(decoded.claim, file: file, dropped: decoded.dropped))
            } catch ShareFileError.notFound {
                continue  // removed between the listing and the read
            } catch let error as ShareFileError where Self.mayHideClaim(error) {
                unreadFiles += 1
                result.append(.unread(file: file, reason: "\(error)"))
            } catch {
                result.append(.unusable(file: file, reason: "\(error)"))
            }
        }
        if files.leftUnread > 0 {
            result.append(
                .unread(file: shown, reason: "\(files.leftUnread) older claim file(s) not read (only the newest \(Self.maximumClaimsRead) are)"))
        }
        return (result, files.notRead + unreadFiles)
    }

    /// Whether a claim file that could not be read may still hide a live claim: an I/O error
    /// (the file is there, its bytes unknown), or no regular file under a host's claim name (a
    /// directory or FIFO that the host's atomic rename cannot replace). A symlink or an
    /// oversized file is replaced by the host's next beat: it is ignored like a malformed one.
    static func mayHideClaim(_ error: ShareFileError) -> Bool {
        switch error {
        case .system, .notRegularFile, .notDirectory, .tooManyEntries, .invalidName: return true
        case .symbolicLink, .tooLarge, .notFound: return false
        }
    }
}
