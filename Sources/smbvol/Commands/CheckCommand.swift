import ArgumentParser
import AttachmentLocks
import DiskImages
import DomainXML
import HandleEvidence
import LibvirtDomains
import LockHygiene
import Logging
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

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

    static let refusedExitCode = ExitCode(3)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var clusterOptions: ClusterOptions
    @OptionGroup var loggingOptions: LoggingOptions

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
        let logger = loggingOptions.bootstrap()
        let (result, definition) = try reportingErrors { () throws -> (CheckDomain.Result, DomainDefinition) in
            let configuration = try configOption.load()
            let shares = try ShareCatalog(configuration: configuration)
            let definition = try readDomain()
            let check = CheckDomain(
                configuration: configuration, shares: shares,
                clusters: ConfiguredClusterClients(configuration: configuration, selection: clusterOptions.selection),
                logger: logger, extraProtectedClients: keepClient,
                localAddresses: { LocalAddresses.current(extra: configuration.localAddresses) })
            let result = try check(definition, migration: migration, force: force)
            logger.debug("check finished", metadata: ["requests": "\(result.requestCount)"])
            return (result, definition)
        }
        let inspection = result.inspection
        let mounted = result.mounted
        let report = CheckReport(inspection: inspection, domain: definition, mounted: mounted)
        let output = OutputWriter()
        output.write(json ? report.json() : report.text())
        output.flush()
        Self.warnAboutHeartbeats(inspection)
        if let failure = inspection.failure {
            writeToStandardError("smbvol: error: check incomplete: \(oneLine(failure.description))\n")
            throw ExitCode.failure
        }
        if inspection.verdict == .refuse { throw Self.refusedExitCode }
    }

    /// A host_id collision and dropped record entries are worth more than a line in the report:
    /// a warning on stderr each (the use case audits them).
    static func warnAboutHeartbeats(_ inspection: DomainInspection) {
        var seen: Set<String> = []
        for image in inspection.images {
            for decision in image.decisions?.decisions ?? [] {
                for heartbeat in decision.heartbeats where (heartbeat.collision || !heartbeat.droppedEntries.isEmpty) && seen.insert(heartbeat.note).inserted {
                    writeToStandardError("smbvol: warning: heartbeat \(oneLine(heartbeat.note))\n")
                }
            }
        }
    }

    private func readDomain() throws -> DomainDefinition {
        if let xml {
            // Bytes, not a String: invalid UTF-8 is refused by the reader, never replaced.
            return try DomainXMLParser().parse(bytes: try CommandBounds.read(xml, what: "domain XML", limit: CommandBounds.domainXMLLimit))
        }
        let connection = try LibvirtConnection(readOnly: connect)
        return try DomainXMLParser().parse(try connection.domainXML(domain ?? ""))
    }

}
