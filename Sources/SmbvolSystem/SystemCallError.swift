#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which call, on which path, and the errno it set.
public struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    public let call: String
    public let path: String?
    public let code: Int32

    public init(call: String, path: String? = nil, code: Int32) {
        self.call = call
        self.path = path
        self.code = code
    }

    /// Captures the current `errno` for `call`.
    public static func current(_ call: String, path: String? = nil) -> SystemCallError {
        SystemCallError(call: call, path: path, code: errno)
    }

    /// The C library's text for the code, e.g. "No such file or directory".
    public var reason: String { String(cString: strerror(code)) }

    public var description: String {
        if let path { return "\(call) \(path) failed: \(reason.lowercased()) (errno \(code))" }
        return "\(call) failed: \(reason.lowercased()) (errno \(code))"
    }
}

/// Runs a libc call that returns -1 and sets `errno` on failure, retrying on EINTR, and turns a
/// failure into a `SystemCallError`. Every syscall in this package goes through here.
@discardableResult
public func retryingSystemCall(
    _ call: String, path: String? = nil, _ body: () -> Int32
) throws -> Int32 {
    while true {
        let result = body()
        if result != -1 { return result }
        if errno == EINTR { continue }
        throw SystemCallError.current(call, path: path)
    }
}
