/// Everything that can go wrong talking to a cluster. Carries the method and path of the
/// request, the HTTP status and Qumulo's `error_class` / `description` — never a token or a
/// password (the path and query are built by smbvol and hold neither).
public struct QumuloError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The cluster answered with an error status.
        case http(status: Int, errorClass: String?, description: String?)
        /// No answer: connection, TLS, timeout.
        case transport(TransportFailure)
        /// The caller's overall deadline passed before an answer.
        case deadlineExceeded
        /// A 2xx answer that is not what the API documents.
        case invalidResponse(String)
        /// No token and no way to log in.
        case notLoggedIn(String)
        /// The token was refused and logging in again did not help (or was not possible).
        case unauthorized(String)
        /// who-am-i shows privileges missing for the operation.
        case missingPrivileges([String], user: String)
    }

    public var kind: Kind
    public var method: String
    public var path: String

    public init(_ kind: Kind, method: String, path: String) {
        self.kind = kind
        self.method = method
        self.path = path
    }

    public var status: Int? {
        if case .http(let status, _, _) = kind { return status }
        return nil
    }

    public var errorClass: String? {
        if case .http(_, let errorClass, _) = kind { return errorClass }
        return nil
    }

    public var description: String {
        let request = "\(method) \(path)"
        switch kind {
        case .http(let status, let errorClass, let description):
            let detail = [errorClass, description].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            return "\(request): HTTP \(status)\(detail.isEmpty ? "" : " \(detail)")\(Self.hint(for: status, path: path))"
        case .transport(let failure):
            return "\(request): \(failure.detail)\(Self.hint(for: failure))"
        case .deadlineExceeded:
            return "\(request): deadline exceeded before the cluster answered"
        case .invalidResponse(let detail):
            return "\(request): unexpected answer from the cluster: \(detail)"
        case .notLoggedIn(let hint), .unauthorized(let hint):
            return "\(request): \(hint)"
        case .missingPrivileges(let privileges, let user):
            return "user \(user) lacks \(privileges.joined(separator: ", ")); add them to the user's role (see README, \"Least-privileged role\")"
        }
    }

    private static func hint(for status: Int, path: String) -> String {
        // A refused lock-grant, session or identity listing is missing evidence: say which.
        if status == 403 || status == 404, let what = MissingEvidence.kind(ofPath: path) {
            let verb = status == 403 ? "the account lacks" : "the cluster does not serve this listing (older Qumulo Core?) or the account lacks"
            return " (\(what.noun) missing: \(verb) \(what.privilege))"
        }
        switch status {
        case 403: return " (the account lacks a privilege; see README, \"Least-privileged role\")"
        case 404: return ""
        case 500...599: return " (cluster-side error; retry later or check the cluster's health)"
        default: return ""
        }
    }

    private static func hint(for failure: TransportFailure) -> String {
        switch failure {
        case .tls: return " (set ca_file to the cluster's CA bundle; insecure = true skips verification and is not recommended)"
        case .connection: return " (is the host and port right, and the cluster reachable from here?)"
        default: return ""
        }
    }
}
