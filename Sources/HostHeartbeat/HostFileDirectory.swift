import SmbvolSystem

/// How a directory of per-host files (`<host_id>.json`: heartbeat records, holder claims) is
/// listed, read newest first and swept: one way for the heartbeat reader and writer and the
/// holder-claim store.
extension ShareFileSystem {
    /// `listEntries`, with a directory that does not exist (nothing written there yet) listed
    /// as empty.
    func listEntriesIfAny(root: String, path: [String], limit: Int) throws -> ShareDirectoryListing {
        do {
            return try listEntries(root: root, path: path, limit: limit)
        } catch ShareFileError.notFound {
            return ShareDirectoryListing(entries: [], truncated: false)
        }
    }

    /// Removes from `directory` what is old: other hosts' files, temporaries and junk whose
    /// modification time and, for a readable host file (`writtenAt` of its name: its own
    /// time, nil when it cannot be read), whose own time are both older than
    /// `olderThanSeconds`; and this host's own leftover temporaries. Nothing fresh is removed,
    /// whoever wrote it, and never this host's own file (`ownName`).
    ///
    /// - Returns: the files removed (below the share root).
    func sweepHostFiles(
        in directory: [String], root: String, ownName: String, now: Double, olderThanSeconds: Double, listLimit: Int,
        writtenAt: (String) -> Double?
    ) -> [String] {
        guard let listing = try? listEntries(root: root, path: directory, limit: listLimit) else { return [] }
        var removed: [String] = []
        for entry in listing.entries where entry.name != ownName {
            guard let modified = entry.modified else { continue }
            let remove: Bool
            if HeartbeatLayout.isTemporary(entry.name, of: ownName) {
                // A killed writer's (sweeps run when a process starts, before it writes).
                remove = true
            } else if now - modified <= olderThanSeconds {
                remove = false
            } else if HeartbeatLayout.isRecordFileName(entry.name), let written = writtenAt(entry.name) {
                remove = now - written > olderThanSeconds
            } else {
                remove = true
            }
            guard remove else { continue }
            if (try? removeFile(root: root, directory: directory, name: entry.name)) != nil {
                removed.append((directory + [entry.name]).joined(separator: "/"))
            }
        }
        return removed
    }
}

/// The host files of one directory listing, newest first, for a bounded read of a directory
/// anyone may crowd: the first `readLimit` are read, the rest reported. "Newest" is the files'
/// modification times, which any writer of the share can set; a file whose time cannot be had
/// comes first too (it cannot be ruled out), then by name. Temporaries of writers (and
/// anything else that is no host file) are left out.
struct NewestHostFiles {
    let newestFirst: [ShareDirectoryListing.Entry]
    let readLimit: Int
    /// The listing stopped at its limit: an unknown number of files was never seen.
    let truncated: Bool

    init(_ listing: ShareDirectoryListing, readLimit: Int) {
        newestFirst = listing.entries.filter { HeartbeatLayout.isRecordFileName($0.name) }.sorted { left, right in
            let l = left.modified ?? .infinity
            let r = right.modified ?? .infinity
            return l != r ? l > r : left.name < right.name
        }
        self.readLimit = readLimit
        truncated = listing.truncated
    }

    /// The files to read: the newest `readLimit`.
    var toRead: ArraySlice<ShareDirectoryListing.Entry> { newestFirst.prefix(readLimit) }
    /// Host files listed but not read (older than those read).
    var leftUnread: Int { max(newestFirst.count - readLimit, 0) }
    /// What a crowded directory hid: the files left unread, and one for a truncated listing
    /// (an unknown number, at least one).
    var notRead: Int { leftUnread + (truncated ? 1 : 0) }
}
