/// Everything a running simulator knows. Value type; the service guards it with a mutex.
struct SimulatorState: Sendable {
    var pageSize: Int
    var serverAddress: String
    var users: [String: UserRecord] = [:]
    var tokens: [String: TokenRecord] = [:]
    var identities: [Scenario.Identity] = []
    var shares: [Scenario.Share] = []
    /// Share id → revision (its ETag); 1 until the first edit.
    var shareRevisions: [String: Int] = [:]
    var filesByPath: [String: FileRecord] = [:]
    var filesByID: [String: FileRecord] = [:]
    var handles = HandleTable()
    var sessions: [SessionRecord] = []
    var faults: [ActiveFault] = []
    var requestLog: [RequestLogEntry] = []
    var closedLocations: [String] = []
    var closedSessions: [String] = []
    /// Sessions closed with a request item lacking members of the session as listed.
    var partialSessionCloses: [String] = []
    var logins = 0
    /// The Samba backend, when the state is a running smbd's (SambaBackend).
    var samba: SambaBackend?
    var sambaSessionSeqs: [String: Int] = [:]
    var variant: ClusterVariant
    private var nextSessionSeq = 1
    private var ownerIDs: [String: Int] = [:]

    static let requestLogLimit = 100_000

    init(scenario: Scenario, pageSizeOverride: Int? = nil) throws(ScenarioError) {
        var scenario = scenario
        if let spec = scenario.generate {
            try ScenarioGenerator.expand(spec, into: &scenario)
        }
        let size = pageSizeOverride ?? scenario.pageSize ?? 500
        guard size >= 1 else { throw .invalidPageSize(size) }
        pageSize = size
        serverAddress = scenario.serverAddress ?? "10.120.0.1"
        variant = scenario.cluster ?? ClusterVariant()

        for user in scenario.users {
            guard users[user.name] == nil else { throw .duplicateUser(user.name) }
            users[user.name] = UserRecord(
                name: user.name, password: user.password, authID: user.authID,
                privileges: user.privileges ?? Privilege.all)
        }
        for token in scenario.accessTokens {
            guard users[token.user] != nil else { throw .tokenForUnknownUser(token.user) }
            tokens[token.token] = TokenRecord(user: token.user)
        }
        identities = scenario.identities
        for var share in scenario.shares {
            if let entries = share.networkPermissions {
                do {
                    share.networkPermissions = try entries.map { entry throws(NetworkPermissionError) in try entry.normalized() }
                } catch {
                    throw .invalidNetworkPermissions(share: share.name, reason: error.message)
                }
            }
            shares.append(share)
        }
        try loadFiles(scenario.files, shares: scenario.shares)
        try addHandles(scenario.handles)
        try addSessions(scenario.sessions)
        for fault in scenario.faults {
            try fault.validate()
            faults.append(ActiveFault(fault))
        }
    }

    private mutating func loadFiles(_ files: [Scenario.File], shares: [Scenario.Share]) throws(ScenarioError) {
        var directories: Set<String> = ["/"]
        for file in files {
            let path = try Self.normalized(file.path)
            guard filesByPath[path] == nil else { throw .duplicatePath(path) }
            guard filesByID[file.id] == nil else { throw .duplicateFileID(file.id) }
            let record = FileRecord(
                path: path, id: file.id, size: file.size, kind: .file, owner: file.owner ?? "500")
            filesByPath[path] = record
            filesByID[file.id] = record
            directories.formUnion(Self.ancestors(of: path))
            for link in file.links {
                let linkPath = try Self.normalized(link)
                guard filesByPath[linkPath] == nil else { throw .duplicatePath(linkPath) }
                filesByPath[linkPath] = record
                directories.formUnion(Self.ancestors(of: linkPath))
            }
        }
        for share in shares {
            let path = try Self.normalized(share.fsPath)
            directories.insert(path)
            directories.formUnion(Self.ancestors(of: path))
        }
        // Directory ids follow the largest numeric file id so they never collide.
        var nextID = (files.compactMap { Int($0.id) }.max() ?? 0) + 1
        for directory in directories.sorted() where filesByPath[directory] == nil {
            while filesByID[String(nextID)] != nil { nextID += 1 }
            let record = FileRecord(
                path: directory, id: String(nextID), size: "0", kind: .directory, owner: "500")
            filesByPath[directory] = record
            filesByID[record.id] = record
            nextID += 1
        }
    }

    /// Adds handles (scenario load or `POST /_sim/handles`); all or nothing.
    mutating func addHandles(_ list: [Scenario.Handle]) throws(ScenarioError) {
        var records: [HandleRecord] = []
        var seen: Set<String> = []
        for handle in list {
            let path = try Self.normalized(handle.path)
            guard let file = filesByPath[path] else {
                throw .handleOnUnknownFile(location: handle.location, path: handle.path)
            }
            guard self.handles.handle(at: handle.location) == nil, seen.insert(handle.location).inserted
            else { throw .duplicateLocation(handle.location) }
            records.append(
                HandleRecord(
                    seq: 0, location: handle.location, path: file.path, fileNumber: file.id,
                    owner: handle.owner, clientAddress: handle.clientAddress,
                    numByteRangeLocks: max(0, handle.numByteRangeLocks), grants: handle.grants,
                    accessMask: handle.accessMask ?? ["MS_ACCESS_FILE_READ_DATA", "MS_ACCESS_FILE_WRITE_DATA"],
                    shareModes: handle.shareModes ?? ["API_SHARE_MODE_READ", "API_SHARE_MODE_WRITE"],
                    ownerName: handle.ownerName ?? handle.clientAddress,
                    version: handle.version ?? 2))
        }
        for record in records { try self.handles.insert(record) }
    }

    /// Adds sessions (scenario load or `POST /_sim/sessions`); all or nothing. A session from an
    /// address one of its shares denies every right is refused: that client could not connect.
    mutating func addSessions(_ list: [Scenario.Session]) throws(ScenarioError) {
        for session in list {
            if let share = shareDenying(session.originator, among: session.shareNames) {
                throw .sessionFromDeniedAddress(originator: session.originator, share: share)
            }
        }
        for session in list {
            let seq = nextSessionSeq
            nextSessionSeq += 1
            let idle = Int64(session.idleSeconds * 1_000_000_000)
            let open = Int64((session.openSeconds ?? session.idleSeconds + 3600) * 1_000_000_000)
            sessions.append(
                SessionRecord(
                    seq: seq, location: session.location ?? String(seq),
                    originator: session.originator, authID: session.authID,
                    idleNanoseconds: idle, openNanoseconds: max(open, idle),
                    shareNames: session.shareNames, isGuest: session.isGuest ?? false,
                    isEncrypted: session.isEncrypted ?? false))
        }
    }

    func identity(authID: String) -> Scenario.Identity? {
        identities.first { $0.authID == authID }
    }

    /// A stable opaque lock-owner id per (client, owner) pair.
    mutating func ownerID(address: String, owner: String) -> String {
        let key = address + "\u{0}" + owner
        if let id = ownerIDs[key] { return String(id) }
        let id = 100_000 + ownerIDs.count
        ownerIDs[key] = id
        return String(id)
    }

    mutating func log(_ entry: RequestLogEntry) {
        if requestLog.count >= Self.requestLogLimit { requestLog.removeFirst(requestLog.count / 2) }
        requestLog.append(entry)
    }

    static func normalized(_ path: String) throws(ScenarioError) -> String {
        guard path.hasPrefix("/") else { throw .relativePath(path) }
        var result = path
        while result.count > 1, result.hasSuffix("/") { result.removeLast() }
        return result
    }

    static func ancestors(of path: String) -> [String] {
        var result: [String] = ["/"]
        var current = ""
        let parts = path.split(separator: "/")
        for part in parts.dropLast() {
            current += "/" + part
            result.append(current)
        }
        return result
    }
}
