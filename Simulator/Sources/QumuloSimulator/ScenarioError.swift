/// Why a scenario (or a run-time addition to one) was rejected.
public enum ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalidJSON(String)
    case relativePath(String)
    case duplicateFileID(String)
    case duplicatePath(String)
    case duplicateLocation(String)
    case handleOnUnknownFile(location: String, path: String)
    case tokenForUnknownUser(String)
    case duplicateUser(String)
    case invalidFault(String)
    case invalidPageSize(Int)
    case invalidGenerateSpec(String)
    case invalidNetworkPermissions(share: String, reason: String)
    case sessionFromDeniedAddress(originator: String, share: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read scenario \(path): \(reason)"
        case .invalidJSON(let reason): "scenario is not valid: \(reason)"
        case .relativePath(let path): "path \"\(path)\" is not absolute"
        case .duplicateFileID(let id): "file id \(id) is used twice"
        case .duplicatePath(let path): "path \(path) is listed twice"
        case .duplicateLocation(let location): "handle location \(location) is used twice"
        case .handleOnUnknownFile(let location, let path):
            "handle \(location) is on \(path), which is not a file or directory of the scenario"
        case .tokenForUnknownUser(let user): "access token names unknown user \(user)"
        case .duplicateUser(let user): "user \(user) is listed twice"
        case .invalidFault(let reason): "invalid fault: \(reason)"
        case .invalidPageSize(let size): "page_size must be at least 1, not \(size)"
        case .invalidGenerateSpec(let reason): "invalid generate section: \(reason)"
        case .invalidNetworkPermissions(let share, let reason): "share \(share): invalid network_permissions: \(reason)"
        case .sessionFromDeniedAddress(let originator, let share):
            "share \(share) denies \(originator) every right (host restrictions): it cannot open a session"
        }
    }
}
