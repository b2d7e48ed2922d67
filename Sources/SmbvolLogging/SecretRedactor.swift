import Synchronization

/// Last line of defence for secrets: values registered here (passwords, tokens read this run)
/// are replaced by `<redacted>` in every line the log handlers write. The first line of defence
/// is that secrets travel as `Secret`, whose description is already redacted.
public final class SecretRedactor: Sendable {
    public static let shared = SecretRedactor()

    private let secrets = Mutex<[String]>([])

    public init() {}

    /// Registers a value to scrub. Very short values are ignored: scrubbing "a" would mangle
    /// every line without protecting anything.
    public func register(_ secret: String) {
        guard secret.count >= 4 else { return }
        secrets.withLock { list in
            if !list.contains(secret) { list.append(secret) }
        }
    }

    public func redact(_ text: String) -> String {
        let list = secrets.withLock { $0 }
        guard !list.isEmpty else { return text }
        var result = text
        for secret in list where result.contains(secret) {
            result = result.replacing(secret, with: "<redacted>")
        }
        return result
    }
}
