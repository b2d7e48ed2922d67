/// An image as the cluster knows it: its file number (the identity: a hard link, `./`, `//`
/// or any other spelling of the same file has the same one), and its canonical cluster path
/// (the fallback when a record carries no file number).
public struct ImageIdentity: Sendable, Equatable {
    public var fileNumber: String?
    public var clusterPath: String

    public init(fileNumber: String?, clusterPath: String) {
        self.fileNumber = fileNumber
        self.clusterPath = ImageIdentity.canonicalPath(clusterPath)
    }

    /// `/a//b/./c/../d` → `/a/b/d`: the one spelling paths are compared in.
    public static func canonicalPath(_ path: String) -> String {
        var components: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                if !components.isEmpty { components.removeLast() }
                continue
            }
            components.append(component)
        }
        return "/" + components.joined(separator: "/")
    }

    /// Two file numbers (or ids) name the same file: equal text, or equal 64-bit values
    /// (`"042"` and `"42"`); the API sends them as strings and never documents leading zeros.
    public static func sameNumber(_ lhs: String, _ rhs: String) -> Bool {
        if lhs == rhs { return true }
        guard let left = UInt64(lhs), let right = UInt64(rhs) else { return false }
        return left == right
    }
}
