/// Where heartbeat records live below a share's root:
///
///     .smbvol/hosts/<host_id>.json                      one per host: the fleet view (`holders`)
///     .smbvol/by-address/<address>/<host_id>.json       the same record once per address it lists
///     .smbvol/images/<image key>/<host_id>.json         one holder claim per host and image it took
///
/// A decision about an image needs the records of the addresses holding grants on it, and
/// nothing else: it lists `by-address/<a>/` for each such address — one directory, as a rule
/// with one entry — so its cost does not grow with the number of hosts on the share. Every file
/// is a complete record (no pointers to keep consistent), and a file of an address a host no
/// longer has simply goes stale.
///
/// Holder claims (`HolderClaim`) are found by the image alone, with no handle and no cluster:
/// a start lists `images/<key>/` for each image it takes — one directory, whatever the number
/// of hosts on the share.
public enum HeartbeatLayout {
    public static let directory = ".smbvol"
    public static let hostsDirectory = [directory, "hosts"]
    public static let byAddressDirectory = [directory, "by-address"]

    public static let imagesDirectory = [directory, "images"]

    public static func hostFileName(hostID: String) -> String { hostID + ".json" }

    /// The claim directory's name for an image: the SHA-256 of its path below the share root
    /// (normalized as records spell it: `a//b`, `./a/b` and `a/b` are one image; and in lower
    /// case: SMB names are case-insensitive, so `VM/A.qcow2` and `vm/a.qcow2` are one file on
    /// the share however each host's domain spells it), 64 hex digits — fixed length whatever
    /// the path, the same on every host whatever its mount point. A reader checks the path
    /// inside each claim (`isSameImage`): a collision is an ignored file. On a case-sensitive
    /// share two names differing only in case share a directory: a claim on one refuses a
    /// start of the other, never more (a takeover record names the file number).
    public static func imageKey(imagePath: String) -> String {
        let normalized: String
        switch HeartbeatRecord.normalizedImagePath(imagePath) {
        case .success(let value): normalized = value
        case .failure: normalized = imagePath
        }
        return SHA256.hex(Array(normalized.lowercased().utf8))
    }

    /// Whether a claim's `image_path` names the image at `imagePath` (both normalized): equal
    /// but for case, as SMB compares names.
    public static func isSameImage(_ claimed: String, _ imagePath: String) -> Bool {
        claimed == imagePath || claimed.lowercased() == imagePath.lowercased()
    }

    /// `images/<key>/` of the image at `imagePath` (below the share root).
    public static func claimDirectory(imagePath: String) -> [String] { imagesDirectory + [imageKey(imagePath: imagePath)] }

    public static func hostRecordPath(hostID: String) -> [String] { hostsDirectory + [hostFileName(hostID: hostID)] }

    public static func addressDirectory(_ address: String) -> [String] { byAddressDirectory + [addressComponent(address)] }

    /// The file-name form of a canonical address. SMB forbids `:` in names, so IPv6's colons
    /// become `-`; letters, digits and `.` stay; every other byte (including `-` itself, for a
    /// name) becomes `_xx` in hex. The mapping is one-to-one, so two addresses never share a
    /// directory.
    public static func addressComponent(_ address: String) -> String {
        var result = ""
        for byte in address.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: ":"):
                result += "-"
            default:
                let hex = String(byte, radix: 16)
                result += "_" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        // "." and ".." are not directory names we may create.
        return result == "." || result == ".." || result.isEmpty ? "_" + result.utf8.map { String($0, radix: 16) }.joined() : result
    }

    /// Whether a directory entry is a record file (not a writer's temporary, not anything else).
    public static func isRecordFileName(_ name: String) -> Bool {
        name.hasSuffix(".json") && !name.hasPrefix(".") && HostIdentity.isValidHostID(String(name.dropLast(5)))
    }

    /// A writer's temporary for `name` (see `NoFollowShareFileSystem.replaceFile`).
    public static func isTemporary(_ entry: String, of name: String) -> Bool { entry.hasPrefix("." + name + ".tmp-") }
}
