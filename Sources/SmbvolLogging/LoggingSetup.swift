import Logging

/// How `main` wires logging; libraries only ever receive a `Logger`.
public enum LoggingSetup {
    /// - Parameters:
    ///   - standardErrorLevel: the lowest level shown on stderr (`.error` in the hook, whose
    ///     stderr becomes libvirt's error text; `.warning` for operators, lower with --verbose).
    ///   - syslogLevel: the lowest level sent to syslog (`nil`: none).
    public static func bootstrap(standardErrorLevel: Logger.Level, syslogLevel: Logger.Level?) {
        LoggingSystem.bootstrap { label in
            var handlers: [any LogHandler] = [LineLogHandler.standardError(logLevel: standardErrorLevel)]
            if let syslogLevel { handlers.append(LineLogHandler.syslog(logLevel: syslogLevel)) }
            return MultiplexLogHandler(handlers)
        }
    }
}
