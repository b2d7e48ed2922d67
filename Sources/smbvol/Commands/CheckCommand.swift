import ArgumentParser
import HandleEvidence
import StaleHandleCleanup
import LockHygiene
import Logging
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging
import SmbvolPresentation
import SmbvolUseCases
import SmbvolWiring

/// `smbvol check`: the exact pipeline a VM start (or incoming migration) runs, as a dry run.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Show what a VM start would do with the SMB handles on its images; change nothing.",
        discussion: """
            Reads the domain (through libvirt, read-only, with --domain; or from a file with --xml), \
            finds each disk's share and cluster path, and classifies every SMB handle on each image \
            exactly as the hook would. Nothing is mounted and nothing is closed. Exit status: 0 a start \
            would proceed, 3 it would be refused, 1 an error prevented the check.
            """)

    @OptionGroup var options: ClusterCommandOptions

    @Option(name: .long, help: ArgumentHelp("Domain name or UUID, read through libvirt.", valueName: "name"))
    var domain: String?

    @Option(name: .long, help: ArgumentHelp("Domain XML file (no libvirt needed).", valueName: "file"))
    var xml: String?

    @Option(name: .long, help: ArgumentHelp("libvirt URI for --domain (read-only).", valueName: "uri"))
    var connect = "qemu:///system"

    @Flag(name: .long, help: "Check an incoming migration instead of a start (live holders are kept, not refused).")
    var migration = false

    @Flag(name: .long, help: "Show what --force would do: close live and unattributable handles too.")
    var force = false

    @Option(name: .customLong("keep-client"), help: ArgumentHelp("A client address whose handles are never closed (repeatable).", valueName: "addr"))
    var keepClient: [String] = []

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        if (domain == nil) == (xml == nil) { throw ValidationError("give --domain NAME or --xml FILE (one of them)") }
    }

    func run() throws {
        let report = try options.run { configuration, logger in
            let shares = try ShareCatalog(configuration: configuration)
            let source: LoadDomainForCheck.Source = xml.map { .xmlFile($0) } ?? .libvirt(domain: domain ?? "", uri: connect)
            let definition = try LoadDomainForCheck()(source)
            let check = CheckDomain(
                configuration: configuration, shares: shares,
                clusters: ConfiguredClusterClients(configuration: configuration, selection: options.clusterOptions.selection),
                logger: logger, extraProtectedClients: keepClient,
                localAddresses: { LocalAddresses.current(extra: configuration.localAddresses) })
            let result = try check(definition, migration: migration, force: force)
            logger.debug("check finished", metadata: ["requests": "\(result.requestCount)"])
            return CheckReport(inspection: result.inspection, domain: definition, mounted: result.mounted)
        }
        let output = OutputWriter()
        output.write(json ? report.json() : report.text())
        output.flush()
        for warning in report.heartbeatWarnings { writeToStandardError("smbvol: warning: \(warning)\n") }
        if let failure = report.inspection.failure {
            writeToStandardError("smbvol: error: check incomplete: \(oneLine(failure.description))\n")
            throw ExitCode.failure
        }
        if report.inspection.verdict == .refuse { throw ExitCode(3) }
    }
}
