#if canImport(Glibc)
import Glibc
#endif

/// The process environment as a dictionary (libvirt rebuilds it for hooks: nothing here may
/// be required).
public enum ProcessEnvironment {
    /// One variable's value; nil when it is not set.
    public static func value(named name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    public static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
