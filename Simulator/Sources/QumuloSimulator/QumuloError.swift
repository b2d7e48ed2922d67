/// An error answer in Qumulo's shape:
/// `{"module", "error_class", "description", "stack": [], "user_visible"}`.
struct QumuloError: Error, Sendable {
    var status: Int
    var module: String
    var errorClass: String
    var description: String

    var response: SimulatorResponse {
        .json(
            .object([
                ("module", .string(module)),
                ("error_class", .string(errorClass)),
                ("description", .string(description)),
                ("stack", .array([])),
                ("user_visible", .bool(true)),
            ]), status: status)
    }

    static func unauthorized(_ description: String = "Need to log in first") -> QumuloError {
        QumuloError(status: 401, module: "http", errorClass: "http_unauthorized_error", description: description)
    }

    static func invalidCredentials() -> QumuloError {
        QumuloError(
            status: 401, module: "api", errorClass: "api_invalid_credentials_error",
            description: "Invalid username or password")
    }

    static func forbidden(missing privilege: String) -> QumuloError {
        QumuloError(
            status: 403, module: "http", errorClass: "http_forbidden_error",
            description: "Access denied: missing privilege \(privilege)")
    }

    static func notFound(_ path: String) -> QumuloError {
        QumuloError(
            status: 404, module: "http", errorClass: "http_not_found_error",
            description: "Not found: \(path)")
    }

    static func noSuchEntry(_ ref: String) -> QumuloError {
        QumuloError(
            status: 404, module: "fs", errorClass: "fs_no_such_entry_error",
            description: "fs_no_such_entry_error: \(ref)")
    }

    static func invalidRequest(_ description: String) -> QumuloError {
        QumuloError(status: 400, module: "http", errorClass: "invalid_request_error", description: description)
    }

    static func methodNotAllowed(_ method: String) -> QumuloError {
        QumuloError(
            status: 405, module: "http", errorClass: "http_method_not_allowed_error",
            description: "Method \(method) not allowed")
    }

    static func injected(status: Int) -> QumuloError {
        QumuloError(
            status: status, module: "sim", errorClass: status >= 500 ? "http_server_error" : "http_error",
            description: "injected fault: status \(status)")
    }
}
