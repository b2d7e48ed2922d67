import Logging

/// How `main` wires logging; libraries only ever receive a `Logger`.
public enum LoggingSetup {
    /// - Parameters:
    ///   - standardErrorLevel: the lowest level shown on stderr (`.error` in the hook, whose
    ///     stderr becomes libvirt's error text; `.warning` for operators, lower with --verbose).
    ///   - syslogLevel: the lowest level sent to the system log — the journal when configured and
    ///     present, else syslog (`nil`: none).
    ///   - operator: who ran a command by hand (SUDO_USER, USER): `operator=` on every system-log
    ///     record (SMBVOL_OPERATOR in the journal); nil for the hook.
    public static func bootstrap(standardErrorLevel: Logger.Level, syslogLevel: Logger.Level?, operator: String? = nil) {
        LoggingSystem.bootstrap { label in
            var handlers: [any LogHandler] = [LineLogHandler.standardError(logLevel: standardErrorLevel)]
            if let syslogLevel {
                var handler = SystemLogHandler(logLevel: syslogLevel)
                if let `operator` { handler.metadata[AuditField.operator.lineKey] = "\(`operator`)" }
                handlers.append(handler)
            }
            return MultiplexLogHandler(handlers)
        }
    }
}
