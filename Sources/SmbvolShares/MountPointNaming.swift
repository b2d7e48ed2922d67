/// Derives the stable directory name a share is mounted at under `mount_base`:
/// `<server>_<share>[_<sub>_<dir>]-<hash>`, e.g. `qumulo1_vmstore_images-5c1e2a9f`.
///
/// The readable part lowercases server and share, turns `/` into `_` and anything outside
/// `[A-Za-z0-9._-]` into `_`, and is cut at 80 characters; the suffix is the low 32 bits of the
/// FNV-1a 64 hash of the normalised export, in hex, so exports the sanitising makes equal
/// (`a b` vs `a_b`) still get different directories. The same export always yields the same
/// name, on every host and every run, so records and mounts line up after restarts.
public enum MountPointNaming {
    public static func directoryName(for export: SMBExport) -> String {
        var readable = [export.server.lowercased(), export.share.lowercased()]
        if !export.subdirectory.isEmpty { readable.append(export.subdirectory) }
        let sanitised = String(readable.joined(separator: "_").map(sanitise).prefix(80))
        return sanitised + "-" + hashSuffix(export.normalised)
    }

    public static func mountPoint(for export: SMBExport, mountBase: String) -> String {
        let base = mountBase.hasSuffix("/") ? String(mountBase.dropLast()) : mountBase
        return base + "/" + directoryName(for: export)
    }

    static func sanitise(_ character: Character) -> Character {
        if character == "/" { return "_" }
        if character.isASCII && (character.isLetter || character.isNumber || "._-".contains(character)) {
            return character
        }
        return "_"
    }

    static func hashSuffix(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let low = UInt32(truncatingIfNeeded: hash)
        let hex = String(low, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
