#if canImport(Glibc)
import Glibc
#endif

/// When this host booted: no process of an earlier boot — no qemu, so no domain — is alive
/// after it. The kernel's `btime` (`/proc/stat`), in seconds since the epoch of today's clock.
public enum HostBootTime {
    /// Nil when it cannot be read (not Linux, no /proc).
    public static func secondsSinceEpoch(procStat path: String = "/proc/stat") -> Double? {
        guard let bytes = try? FileDescriptorIO.readFile(path: path, limit: 4 * 1024 * 1024) else { return nil }
        return parse(String(decoding: bytes, as: UTF8.self))
    }

    /// The `btime N` line of /proc/stat's text.
    public static func parse(_ text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            guard let value = Double(line.dropFirst("btime ".count).drop(while: { $0 == " " })), value.isFinite, value > 0 else { return nil }
            return value
        }
        return nil
    }
}
