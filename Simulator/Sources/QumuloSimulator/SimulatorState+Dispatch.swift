import Foundation

/// Authentication, privileges and dispatch to the endpoint handlers.
extension SimulatorState {
    struct PreRequestFaults {
        var hangs = false
        var latencyMilliseconds = 0
        var status: Int?
    }

    mutating func preRequestFaults(path: String) -> PreRequestFaults {
        var result = PreRequestFaults()
        for index in faults.indices where faults[index].fault.matches(path: path) {
            switch faults[index].fault.kind {
            case .hang:
                if faults[index].fire() { result.hangs = true }
            case .latency:
                if faults[index].fire() { result.latencyMilliseconds += faults[index].fault.milliseconds ?? 0 }
            case .status:
                if faults[index].statusFires(), result.status == nil { result.status = faults[index].fault.status }
            default:
                break
            }
        }
        return result
    }

    /// Whether a fault of `kind` matching `path` fires now (and counts it).
    mutating func fires(_ kind: Fault.Kind, path: String) -> Bool {
        for index in faults.indices
        where faults[index].fault.kind == kind && faults[index].fault.matches(path: path) {
            if faults[index].fire() { return true }
        }
        return false
    }

    /// The user behind the request's bearer token, or 401.
    mutating func authenticate(_ request: SimulatorRequest) throws(QumuloError) -> UserRecord {
        guard let header = request.authorization, header.lowercased().hasPrefix("bearer ") else {
            throw .unauthorized()
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let record = tokens[token], let user = users[record.user] else {
            throw .unauthorized("Invalid or expired bearer token")
        }
        var expired = false
        for index in faults.indices where faults[index].fault.kind == .tokenExpiry {
            if faults[index].tokenExpired(token) { expired = true }
        }
        if expired { throw .unauthorized("Bearer token has expired") }
        return user
    }

    mutating func route(_ request: SimulatorRequest, authenticated: inout Bool) throws(QumuloError)
        -> SimulatorResponse
    {
        let route: Route
        switch Route.match(method: request.method, rawPath: request.rawPath) {
        case .notFound: throw .notFound(request.rawPath)
        case .methodNotAllowed: throw .methodNotAllowed(request.method)
        case .route(let matched): route = matched
        }
        // An older cluster has no lock-grant listings at all: 404 before any authentication.
        switch route {
        case .fileLocks, .clientLocks:
            if !variant.servesLockGrantListings { throw .notFound(request.rawPath) }
        default:
            break
        }
        var user: UserRecord?
        if route.needsAuthentication {
            let found = try authenticate(request)
            authenticated = true
            if let privilege = route.privilege, !found.privileges.contains(privilege) {
                throw .forbidden(missing: privilege)
            }
            user = found
        }
        switch route {
        case .version: return versionResponse()
        case .login: return try login(request)
        case .whoAmI: return whoAmI(user)
        case .fileAttributes(let ref): return try fileAttributes(ref: ref)
        case .smbFiles: return try listHandles(request)
        case .smbFilesClose: return try closeHandles(request)
        case .smbSessions: return try listSessions(request)
        case .smbSessionsClose: return try closeSessions(request)
        case .fileLocks(let ref, let type): return try listFileGrants(request, ref: ref, type: type)
        case .clientLocks(let type): return try listClientGrants(request, type: type)
        case .shares: return listShares()
        case .share(let id): return try share(id: id)
        case .shareModify(let id): return try modifyShare(id: id, request)
        case .identityFind: return try findIdentity(request)
        }
    }

    /// Parses a JSON request body or answers 400.
    func jsonBody(_ request: SimulatorRequest) throws(QumuloError) -> JSONValue {
        guard let value = JSONValue.parse(request.body) else {
            throw .invalidRequest("request body is not valid JSON")
        }
        return value
    }

    /// A fresh `next` link never handed out before (an `endless_next` fault), or nil.
    mutating func endlessNextLink(_ request: SimulatorRequest) -> String? {
        for index in faults.indices
        where faults[index].fault.kind == .endlessNext && faults[index].fault.matches(path: request.rawPath) {
            guard faults[index].fire() else { continue }
            let serial = faults[index].fired
            return request.rawPath + "?after=\(PercentEncoding.encode(Paging.cursor(1_000_000_000 + serial)))&limit=1000&endless=\(serial)"
        }
        return nil
    }

    /// Whether the request loops its `next` back to itself (a `looping_next` fault).
    mutating func loopsNext(_ request: SimulatorRequest) -> Bool {
        fires(.loopingNext, path: request.rawPath)
    }
}
