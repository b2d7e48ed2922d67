#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Directory listings (opendir/readdir), in one place.
public enum DirectoryListing {
    /// The names in the directory at `path`, without `.` and `..`, in the order readdir gives.
    /// Throws `SystemCallError` (opendir, readdir), or `InputLimitExceeded` past `limit` names.
    public static func names(in path: String, limit: Int = Int.max) throws -> [String] {
        guard let stream = opendir(path) else { throw SystemCallError.current("opendir", path: path) }
        defer { closedir(stream) }
        return try names(of: stream, path: path, limit: limit)
    }

    /// The names in an open directory, which this takes over (closed on return, also on
    /// failure): for callers that opened it themselves, e.g. with openat and O_NOFOLLOW.
    /// `path` is only what errors show.
    public static func names(ofOpenDirectory descriptor: Int32, path: String, limit: Int = Int.max) throws -> [String] {
        guard let stream = fdopendir(descriptor) else {
            let error = SystemCallError.current("fdopendir", path: path)
            close(descriptor)
            throw error
        }
        defer { closedir(stream) }
        return try names(of: stream, path: path, limit: limit)
    }

    /// The first `limit` names in an open directory (taken over, as above), and whether there
    /// were more: for callers that must use what a crowded directory holds rather than refuse it.
    public static func firstNames(ofOpenDirectory descriptor: Int32, path: String, limit: Int) throws -> (names: [String], more: Bool) {
        guard let stream = fdopendir(descriptor) else {
            let error = SystemCallError.current("fdopendir", path: path)
            close(descriptor)
            throw error
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw SystemCallError.current("readdir", path: path) }
                return (names, false)
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name == "." || name == ".." { continue }
            if names.count >= limit { return (names, true) }
            names.append(name)
        }
    }

    private static func names(of stream: OpaquePointer, path: String, limit: Int) throws -> [String] {
        var names: [String] = []
        while true {
            // readdir returns NULL both at the end and on failure; only errno tells them apart.
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw SystemCallError.current("readdir", path: path) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            guard names.count < limit else { throw InputLimitExceeded(path: path, limit: limit, unit: .entries) }
            names.append(name)
        }
    }
}

/// The names in a directory (without `.` and `..`).
public func listDirectory(_ path: String) throws -> [String] {
    try DirectoryListing.names(in: path)
}
