import ArgumentParser
import AttachmentLocks
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Add, delete and list attachment locks (a share is not unmounted while any remains).",
        subcommands: [LockAddCommand.self, LockDeleteCommand.self, LockListCommand.self])
}

struct LockAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an operator lock on a share and print its id.",
        discussion: "The share then stays mounted until `smbvol lock delete ID`; the libvirt hook never removes it.")

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions
    @Option(name: .long, help: "The configured share to lock.") var share: String
    @Option(name: .long, help: "Why (shown by `smbvol mounts`), e.g. \"backup window\".") var reason: String

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let lock = try OperatorShares(configuration: try configOption.load(), logger: logger).addLock(share: share, reason: reason)
            let output = OutputWriter()
            output.line(lock.id)
        }
    }
}

struct LockDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a lock by id; the share is unmounted if that was its last lock.")

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions
    @Argument(help: "The lock's id (see `smbvol lock list`).") var id: String

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let (lock, report) = try OperatorShares(configuration: try configOption.load(), logger: logger).deleteLock(id: id)
            let output = OutputWriter()
            output.line("deleted lock \(lock.id) on share \(lock.share)")
            for share in report.unmountedShares { output.line("unmounted share \(share)") }
            for failure in report.unmountFailures { writeToStandardError("smbvol: warning: \(failure)\n") }
        }
    }
}

struct LockListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List attachment locks.")

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions
    @Option(name: .long, help: "Only the locks of this share.") var share: String?
    @Flag(name: .long, help: "Print JSON: {\"locks\": [{\"id\", \"domain_uuid\", \"domain_name\", \"disk\", \"reason\", \"context\", \"created_at\"}]}.")
    var json = false

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let locks = try OperatorShares(configuration: try configOption.load(), logger: logger).locks(share: share)
            let output = OutputWriter()
            if json {
                output.write(JSONWriter.document(.object([("locks", .array(locks.map(LockJSON.value)))])))
                return
            }
            let now = SystemClock().wallClockSeconds()
            for lock in locks { output.line("\(lock.share)  " + LockText.line(lock, now: now)) }
        }
    }
}

/// A lock in the JSON that outside tools read (keys fixed by the issue; `share` added).
enum LockJSON {
    static func value(_ lock: AttachmentLock) -> JSONValue {
        .object([
            ("id", .string(lock.id)), ("share", .string(lock.share)), ("domain_uuid", .string(lock.domainUUID)),
            ("domain_name", .string(lock.domainName)), ("disk", .string(lock.disk)), ("reason", .string(lock.reason)),
            ("context", .string(lock.context.rawValue)), ("created_at", .string(lock.createdAt)),
        ])
    }
}

enum LockText {
    /// `3f2a…  hook  web01 vdb  2h5m  domain web01 disk vdb`
    static func line(_ lock: AttachmentLock, now: Double) -> String {
        let who = lock.context == .operator ? "-" : "\(lock.domainName) \(lock.disk)"
        let since = UTCTimestamp.secondsSinceEpoch(iso8601: lock.createdAt).map { age(now - $0) } ?? "?"
        return "\(lock.id)  \(lock.context.rawValue)  \(who)  \(since)  \(lock.reason)"
    }

    static func age(_ seconds: Double) -> String {
        let total = max(0, Int(seconds))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(total % 60)s" }
        if total < 86400 { return "\(total / 3600)h\(total % 3600 / 60)m" }
        return "\(total / 86400)d\(total % 86400 / 3600)h"
    }
}
