import ArgumentParser
import AttachmentLocks
import SMBMounts
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// Hidden entry points to the attach and release paths, for the integration tests until the
/// hook and attach/detach commands exist (to be replaced).
struct MountDebugAttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug-attach", abstract: "Attach one disk of a domain to a share (testing).", shouldDisplay: false)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions
    @Option(name: .long, help: "A configured share.") var share: String?
    @Option(name: .long, help: "A file with nova-style connection info JSON (instead of --share).") var connectionInfo: String?
    @Option(name: .long) var domainUuid: String
    @Option(name: .long) var domainName: String
    @Option(name: .long) var disk: String = "vda"
    @Option(name: .long) var image: String = ""

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let configuration = try configOption.load()
            var extra: [MountableShare] = []
            if let connectionInfo {
                extra.append(try SMBConnectionInfo(json: try readWholeFile(connectionInfo)).mountableShare(mountBase: configuration.mountBase))
            }
            let wiring = try ShareAttachmentWiring(configuration: configuration, logger: logger, connectionInfoShares: extra)
            let target = try extra.first.map(ShareAttachmentWiring.target(for:)) ?? wiring.target(named: share ?? "")
            let receipt = try wiring.service.attachDisk(
                DiskAttachmentRequest(domainUUID: domainUuid, domainName: domainName, disk: disk, image: image, share: target),
                deadline: wiring.deadline)
            let output = OutputWriter()
            output.line("\(target.mountPoint) \(receipt.createdLockIDs.joined(separator: ","))")
        }
    }
}

struct MountDebugReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug-release", abstract: "Release every hook lock of a domain (testing).", shouldDisplay: false)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions
    @Option(name: .long) var domainUuid: String

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let wiring = try ShareAttachmentWiring(configuration: try configOption.load(), logger: logger)
            let report = try wiring.service.releaseDomain(uuid: domainUuid, deadline: wiring.deadline)
            let output = OutputWriter()
            output.line("released \(report.removedLocks.count) unmounted \(report.unmountedShares.joined(separator: ","))")
            for failure in report.unmountFailures { writeToStandardError("smbvol: warning: \(failure)\n") }
        }
    }
}
