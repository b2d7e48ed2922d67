import SmbvolSystem

/// Who this host is in heartbeat records: `host_id` from the configuration, else the systemd
/// machine id (stable across reboots and renames, unique per installation).
public enum HostIdentity {
    public struct Unavailable: Error, Sendable, CustomStringConvertible {
        public var reason: String
        public var description: String {
            "cannot tell this host's identity for heartbeat records: \(reason); set host_id in smbvol.toml"
        }
    }

    public static func hostID(configured: String?, machineIDPath: String = "/etc/machine-id") throws -> String {
        if let configured { return configured }
        let bytes: [UInt8]
        do {
            bytes = try readWholeFile(machineIDPath)
        } catch {
            throw Unavailable(reason: "\(error)")
        }
        let text = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init) ?? ""
        guard text.utf8.count == 32, text.utf8.allSatisfy({ isHexDigit($0) }) else {
            throw Unavailable(reason: "\(machineIDPath) does not hold a machine id (32 hexadecimal digits)")
        }
        return text.lowercased()
    }

    /// `host_id` names files on shared storage: 1 to 64 of letters, digits, `.`, `_`, `-`, not
    /// starting with `.` (the configuration loader enforces the same).
    public static func isValidHostID(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= 64, !value.hasPrefix(".") else { return false }
        return value.utf8.allSatisfy { byte in
            isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// This host's name (gethostname), for people reading records.
    public static func hostname() -> String { HostName.current() ?? "unknown" }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
