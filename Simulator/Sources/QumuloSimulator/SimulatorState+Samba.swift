/// Applying a Samba snapshot to the simulator's state (see SambaBackend): the existing endpoint
/// handlers then serve it unchanged, so the API is the scenario backend's, byte for byte.
extension SimulatorState {
    mutating func apply(_ snapshot: SambaSnapshot) {
        // Files: the server's files under the root, inode as id.
        var byPath: [String: FileRecord] = [:]
        var byID: [String: FileRecord] = [:]
        for file in snapshot.files {
            let record = FileRecord(
                path: file.path, id: String(file.inode), size: String(file.size),
                kind: file.dir ? .directory : .file, owner: "500")
            byPath[file.path] = record
            byID[record.id] = record
        }
        filesByPath = byPath
        filesByID = byID

        // Handles: keep the ones still open (their paging sequence stays), add new ones.
        var wanted: [String: HandleRecord] = [:]
        for open in snapshot.opens {
            guard let path = open.path, let inode = open.inode else { continue }  // outside the root
            let client = open.client ?? ""
            let location = String(open.fid)
            wanted[location] = HandleRecord(
                seq: 0, location: location, path: path, fileNumber: String(inode),
                owner: authID(forSMBUser: open.user ?? ""), clientAddress: client,
                numByteRangeLocks: open.num_locks, grants: !client.isEmpty,
                accessMask: Self.accessMask(open.access), shareModes: Self.shareModes(open.sharemode),
                ownerName: client, version: 2)
        }
        for existing in handles.all {
            let new = wanted[existing.location]
            if new == nil || new!.numByteRangeLocks != existing.numByteRangeLocks || new!.clientAddress != existing.clientAddress {
                handles.remove(location: existing.location)
            } else {
                wanted[existing.location] = nil
            }
        }
        for (_, record) in wanted.sorted(by: { $0.key < $1.key }) {
            try? handles.insert(record)
        }

        // Sessions: one per smbd session; sequence numbers stable per session id.
        var list: [SessionRecord] = []
        for session in snapshot.sessions {
            let seq = sambaSessionSeq(session.id)
            let idle = Int64(session.idle_seconds ?? 0) * 1_000_000_000
            let open = Int64(session.open_seconds ?? 0) * 1_000_000_000
            list.append(
                SessionRecord(
                    seq: seq, location: session.id, originator: session.client,
                    authID: authID(forSMBUser: session.user), idleNanoseconds: idle,
                    openNanoseconds: max(open, idle), shareNames: shares.map(\.name),
                    isGuest: false, isEncrypted: false,
                    serverAddress: (session.server?.isEmpty ?? true) ? samba?.configuration.serverAddress : session.server))
        }
        sessions = list.sorted { $0.seq < $1.seq }
    }

    /// The scenario identity named like the SMB user (case-insensitive), else the name itself.
    func authID(forSMBUser user: String) -> String {
        identities.first { $0.name?.lowercased() == user.lowercased() }?.authID ?? user
    }

    mutating func sambaSessionSeq(_ id: String) -> Int {
        if let seq = sambaSessionSeqs[id] { return seq }
        let seq = sambaSessionSeqs.count + 1
        sambaSessionSeqs[id] = seq
        return seq
    }

    static func accessMask(_ text: String) -> [String] {
        var mask: [String] = []
        if text.contains("R") { mask.append("MS_ACCESS_FILE_READ_DATA") }
        if text.contains("W") { mask.append("MS_ACCESS_FILE_WRITE_DATA") }
        return mask
    }

    static func shareModes(_ text: String) -> [String] {
        var modes: [String] = []
        if text.contains("R") { modes.append("API_SHARE_MODE_READ") }
        if text.contains("W") { modes.append("API_SHARE_MODE_WRITE") }
        if text.contains("D") { modes.append("API_SHARE_MODE_DELETE") }
        return modes
    }

    /// Closes one real open: NetFileClose, then a fresh listing must not show it.
    mutating func sambaClose(_ samba: SambaBackend, location: String) -> String {
        guard let fid = Int(location), handles.handle(at: location) != nil || fid > 0 else {
            return "fs_no_such_entry_error: no open file handle at location \(location)"
        }
        let error = samba.close(fid: fid)
        // The close is asynchronous in smbd: confirm by listing again (briefly).
        var stillOpen = true
        for attempt in 0..<10 {
            if attempt > 0 { usleepMilliseconds(100) }
            guard case .success(let snapshot) = samba.snapshot(fresh: true) else { continue }
            apply(snapshot)
            stillOpen = snapshot.opens.contains { $0.fid == fid }
            if !stillOpen { break }
        }
        if !stillOpen {
            closedLocations.append(location)
            if error.contains("WERR_FILE_NOT_FOUND") {
                return "fs_no_such_entry_error: no open file handle at location \(location)"
            }
            return ""
        }
        return error.isEmpty ? "the open \(location) is still listed after NetFileClose" : error
    }

    /// Drops one real client connection (`POST /v1/smb/sessions/close` in the Samba backend):
    /// the smbd child serving the session is ended and a fresh listing confirms the session is
    /// gone. Whether the client can come back is the share's host restrictions' business
    /// (`hosts allow`/`hosts deny`, see `sambaHostLists`).
    mutating func sambaCloseSession(_ samba: SambaBackend, location: String) -> String {
        guard case .success(let before) = samba.snapshot(fresh: true) else {
            return "the Samba backend could not list sessions"
        }
        apply(before)
        guard let session = before.sessions.first(where: { $0.id == location }) else {
            return "no SMB session at location \(location)"
        }
        let error = samba.closeSession(id: location, pid: session.pid)
        if case .success(let after) = samba.snapshot(fresh: true) { apply(after) }
        if error.isEmpty { closedSessions.append(location) }
        return error
    }

    /// A share's host restrictions as smbd can enforce them: per connection, never per right.
    /// An address may connect when it holds WRITE under the ordered rules, approximated from the
    /// safe side: the addresses of the ALLOWED entries granting WRITE, except those of every
    /// DENIED entry denying WRITE — wherever they stand in the list. So smbd never lets an
    /// address write that the rules deny writing (a read-only address cannot connect at all; a
    /// DENIED entry below an ALLOWED one it overlaps denies more than a cluster would).
    /// nil: no restriction (the default). Dash ranges become CIDR blocks (smbd has no ranges).
    static func sambaHostLists(_ entries: [NetworkPermission]?) -> (allow: String?, deny: String?) {
        guard let entries, !entries.isEmpty, entries != [.allowEveryone] else { return (nil, nil) }
        var allow: [String] = []
        var deny: [String] = []
        var allowAll = false
        var denyAll = false
        for entry in entries where entry.rights.contains("WRITE") {
            let blocks = entry.addressRanges.flatMap(sambaBlocks)
            switch entry.type {
            case .allowed:
                if entry.addressRanges.isEmpty { allowAll = true } else { allow += blocks }
            case .denied:
                if entry.addressRanges.isEmpty { denyAll = true } else { deny += blocks }
            }
        }
        func unique(_ items: [String]) -> String {
            var seen: [String] = []
            for item in items where !seen.contains(item) { seen.append(item) }
            return seen.joined(separator: " ")
        }
        if denyAll || (!allowAll && allow.isEmpty) { return (nil, "ALL") }
        if allowAll { return deny.isEmpty ? (nil, nil) : (nil, unique(deny)) }
        return (deny.isEmpty ? unique(allow) : unique(allow) + " EXCEPT " + unique(deny), nil)
    }

    /// One `address_ranges` item in smbd's syntax: an address, a CIDR block, or the CIDR blocks
    /// covering a dash range.
    static func sambaBlocks(_ range: String) -> [String] {
        let text = range.trimmingCharacters(in: .whitespaces)
        guard let dash = text.firstIndex(of: "-"), !text.contains("/") else { return [text] }
        let lowText = String(text[..<dash])
        let highText = String(text[text.index(after: dash)...])
        guard let low = AddressRange.ipv4(lowText) else { return [text] }
        let high: UInt32
        if let full = AddressRange.ipv4(highText) {
            high = full
        } else if let octet = UInt32(highText), octet <= 255 {
            high = (low & 0xFFFF_FF00) | octet
        } else {
            return [text]
        }
        var blocks: [String] = []
        var start = UInt64(low)
        let end = UInt64(high)
        while start <= end {
            var bits = 32
            while bits > 0 {
                let size = UInt64(1) << UInt64(32 - bits + 1)
                if start % size != 0 || start + size - 1 > end { break }
                bits -= 1
            }
            let value = UInt32(start)
            let dotted = "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
            blocks.append(bits == 32 ? dotted : "\(dotted)/\(bits)")
            start += UInt64(1) << UInt64(32 - bits)
        }
        return blocks
    }
}

import Foundation

func usleepMilliseconds(_ milliseconds: Int) {
    usleep(useconds_t(milliseconds * 1000))
}
