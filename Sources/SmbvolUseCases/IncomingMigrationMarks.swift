import SmbvolSystem

/// Remembers that a domain UUID is arriving by live migration, so the `prepare begin` libvirt
/// runs right after `migrate begin` uses migration mode too (the source still holds the images;
/// start mode would refuse every live migration). A mark is a file
/// `<state_dir>/migrations/<uuid>` holding its creation time, written only after a migrate hook
/// succeeded; it ends at `started`, at `release`, at the next migrate hook, or when older than
/// `lifetime`.
public struct IncomingMigrationMarks: Sendable {
    public let directory: String
    public let lifetime: Double
    public let clock: any MonotonicClock

    public init(stateDirectory: String, lifetime: Double = 600, clock: any MonotonicClock = SystemClock()) {
        directory = stateDirectory + "/migrations"
        self.lifetime = lifetime
        self.clock = clock
    }

    public func mark(_ uuid: DomainUUID) throws {
        try SecureFiles.ensurePrivateDirectory(directory)
        try AtomicFileWriter().write(Array(String(clock.wallClockSeconds()).utf8), to: path(uuid), mode: 0o600)
    }

    /// Whether a live (not expired) mark exists; an expired one is removed.
    public func isMarked(_ uuid: DomainUUID) -> Bool {
        guard let bytes = try? readWholeFile(path(uuid)),
            let created = Double(String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace).first ?? "")
        else { return false }
        if clock.wallClockSeconds() - created > lifetime {
            clear(uuid)
            return false
        }
        return true
    }

    public func clear(_ uuid: DomainUUID) {
        FileRemoval.removeFile(path(uuid))
    }

    private func path(_ uuid: DomainUUID) -> String { directory + "/" + uuid.value }
}

/// A libvirt domain UUID, validated before it names a file (8-4-4-4-12 hex digits).
public struct DomainUUID: Sendable, Equatable, CustomStringConvertible {
    public let value: String

    public init?(_ text: String) {
        let lowered = text.lowercased()
        let groups = lowered.split(separator: "-", omittingEmptySubsequences: false)
        // ASCII hex only: Character.isHexDigit also accepts fullwidth digits and letters,
        // which are not a UUID (and would name a different file).
        let hex = { (c: Character) in c.isASCII && c.isHexDigit }
        guard groups.map(\.count) == [8, 4, 4, 4, 12], groups.allSatisfy({ $0.allSatisfy(hex) }) else {
            return nil
        }
        value = lowered
    }

    public var description: String { value }
}
