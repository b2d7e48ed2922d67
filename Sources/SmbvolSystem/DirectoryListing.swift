#if canImport(Glibc)
import Glibc
#endif

/// The names in a directory (without `.` and `..`).
public func listDirectory(_ path: String) throws -> [String] {
    guard let stream = opendir(path) else { throw SystemCallError.current("opendir", path: path) }
    defer { closedir(stream) }
    var names: [String] = []
    while let entry = readdir(stream) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}
