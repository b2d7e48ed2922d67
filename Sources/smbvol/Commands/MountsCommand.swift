import ArgumentParser
import AttachmentLocks
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SmbvolSystem
import SmbvolUseCases

struct MountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mounts",
        abstract: "List the configured shares, whether each is mounted, and the attachment locks on it.",
        discussion: """
            A share stays mounted while any lock remains: one per disk of a running domain (context hook) \
            and any an operator added (context operator). Shares only the locks mention (from connection \
            info) are listed too.
            """)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions

    @Flag(name: .long, help: "Print JSON: {\"mounts\": [{\"share\", \"export\", \"mount_point\", \"mounted\", \"locks\": […]}]}.")
    var json = false

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let wiring = try ShareAttachmentWiring(configuration: try configOption.load(), logger: logger)
            let statuses = try wiring.service.status(of: wiring.targets)
            let output = OutputWriter()
            if json {
                output.line(try LockJSON.encode(MountsDocument(mounts: statuses.map(MountJSON.init))))
                return
            }
            let now = SystemClock().wallClockSeconds()
            for status in statuses {
                let state = status.share.isLocal ? "local" : (status.mounted ? "mounted" : "not mounted")
                output.line("\(status.share.name)  \(status.share.export.isEmpty ? "-" : status.share.export)  \(status.share.mountPoint)  \(state)")
                for lock in status.locks { output.line("    " + LockText.line(lock, now: now)) }
            }
        }
    }
}

struct MountsDocument: Encodable {
    var mounts: [MountJSON]
}

struct MountJSON: Encodable {
    var share: String
    var export: String
    var mountPoint: String
    var mounted: Bool
    var locks: [LockJSON]

    init(_ status: ShareStatus) {
        share = status.share.name
        export = status.share.export
        mountPoint = status.share.mountPoint
        mounted = status.mounted
        locks = status.locks.map(LockJSON.init)
    }

    enum CodingKeys: String, CodingKey {
        case share, export, mounted, locks
        case mountPoint = "mount_point"
    }
}
