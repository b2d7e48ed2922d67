import Logging
import Synchronization
import SmbvolSystem

/// One audit event — every close, refusal, forced action, mount, unmount and lock change — built
/// in one place and rendered the same way by every sink: the syslog/stderr line (message plus
/// `key=value` metadata, LogLineFormatter), the journal entry (the same line as MESSAGE, each
/// field as `SMBVOL_*`, a MESSAGE_ID per kind) and the metrics (counted per kind).
///
/// Call sites fill in what they know and call `logger.audit(event)`; nothing else writes audit
/// records.
public struct AuditEvent: Sendable, Equatable {
    public var kind: AuditEventKind
    /// The line's text before the metadata ("closed stale SMB handle").
    public var message: String
    public var level: Logger.Level
    /// The named fields, in `AuditField` order when rendered; absent fields are left out.
    public var fields: [AuditField: String]
    /// Fields specific to a few events (mount_point, lock_id, export, outcome, error…); rendered
    /// as `key=value` on the line and `SMBVOL_KEY` in the journal.
    public var extra: [String: String]

    public init(
        _ kind: AuditEventKind, message: String, level: Logger.Level? = nil, fields: [AuditField: String] = [:],
        extra: [String: String] = [:]
    ) {
        self.kind = kind
        self.message = message
        self.level = level ?? kind.defaultLevel
        self.fields = fields
        self.extra = extra
    }

    public subscript(field: AuditField) -> String? {
        get { fields[field] }
        set { fields[field] = newValue }
    }

    /// The metadata of the log record: `event`, then every non-empty field under its line key.
    public var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = ["event": "\(kind.rawValue)"]
        for (field, value) in fields where !value.isEmpty { metadata[field.lineKey] = "\(value)" }
        for (key, value) in extra where metadata[key] == nil && !value.isEmpty { metadata[key] = "\(value)" }
        return metadata
    }

    /// The same event at another level.
    public func at(_ level: Logger.Level) -> AuditEvent {
        var copy = self
        copy.level = level
        return copy
    }

    /// The invoking operator of a command run by hand: `SUDO_USER` (who ran sudo), else `USER`,
    /// else the numeric uid. nil in the hook (libvirt runs it; there is no operator).
    public static func invokingOperator(environment: [String: String]) -> String {
        for key in ["SUDO_USER", "LOGNAME", "USER"] {
            if let value = environment[key], !value.isEmpty { return value }
        }
        return "uid \(UserAccounts.realUserID)"
    }
}

/// The named audit fields: each has one key on the line and one journal field name.
public enum AuditField: String, Sendable, CaseIterable {
    case domain, domainUUID, disk, image, share, cluster, clusterPath, location, owner, client, idleSeconds
    case decision, reason, `operator`

    /// The `key=` on the syslog line (kept as the existing audit lines spell them).
    public var lineKey: String {
        switch self {
        case .domainUUID: return "domain_uuid"
        case .clusterPath: return "cluster_path"
        case .client: return "client_address"
        case .idleSeconds: return "idle_seconds"
        default: return rawValue
        }
    }

    /// The journal field (`SMBVOL_CLIENT`, …).
    public var journalName: String {
        switch self {
        case .domainUUID: return "SMBVOL_DOMAIN_UUID"
        case .clusterPath: return "SMBVOL_CLUSTER_PATH"
        case .idleSeconds: return "SMBVOL_IDLE_SECONDS"
        default: return "SMBVOL_" + rawValue.uppercased()
        }
    }

    /// Line key → field, for sinks that receive a log record's metadata.
    static let byLineKey: [String: AuditField] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.lineKey, $0) })
}

/// Who else hears about audit events in this process (the metrics, wired by `main`): libraries
/// emit events without knowing what is listening.
public final class AuditEventObservers: Sendable {
    public static let shared = AuditEventObservers()
    private let observers = Mutex<[@Sendable (AuditEvent) -> Void]>([])

    public func add(_ observer: @escaping @Sendable (AuditEvent) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    func notify(_ event: AuditEvent) {
        for observer in observers.withLock({ $0 }) { observer(event) }
    }
}

extension Logger {
    /// Writes an audit event: one log record at the event's level (syslog line or journal
    /// entry), and one notification to the observers (metrics).
    public func audit(_ event: AuditEvent) {
        log(level: event.level, "\(event.message)", metadata: event.metadata)
        AuditEventObservers.shared.notify(event)
    }
}
