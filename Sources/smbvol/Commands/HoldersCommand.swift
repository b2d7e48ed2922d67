import ArgumentParser
import SMBMounts
import SmbvolShares
import SmbvolLogging
import SmbvolPresentation
import SmbvolUseCases

/// `smbvol holders`: the fleet view from the heartbeat records on each share — which host holds
/// which image for which domain, and when it last beat.
struct HoldersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "holders",
        abstract: "Show which hosts hold which images on each share, from their heartbeat records.",
        discussion: """
            Reads .smbvol/hosts/*.json on every configured share that is mounted (or local_path). A record \
            is fresh when younger than heartbeat_fresh_seconds (default 3 × heartbeat_interval_seconds) by \
            this host's clock, or dated in the future. Records are written by anyone who can write the share: \
            they are evidence of liveness, not of identity. A record with this host's host_id that lists \
            addresses that are not this host's is another host using the same host_id (a cloned machine-id): \
            shown as a HOST_ID COLLISION, with a warning on stderr. Entries of a record that no reader accepts \
            are shown as dropped (the rest of the record is used). A mounted share is probed first: a hung \
            share is reported, not waited for. Nothing is changed.
            """)

    @OptionGroup var options: OperatorOptions

    @Option(name: .long, help: ArgumentHelp("Only this configured share.", valueName: "name"))
    var share: String?

    @Flag(name: .long, help: "Print JSON: {\"shares\": [{\"share\", \"directory\", \"mounted\", \"error\", \"hosts\": […], \"unusable\": […]}]}.")
    var json = false

    func run() throws {
        let shares = try options.run { configuration, logger in
            try ListHolders(configuration: configuration, catalog: try ShareCatalog(configuration: configuration), logger: logger)(only: share)
        }
        let output = OutputWriter()
        if json {
            output.write(HoldersText.document(shares))
        } else {
            output.lines(shares.flatMap(HoldersText.lines))
        }
        output.flush()
        // Audit events reach the system log only: the warnings go to stderr too.
        for warning in HoldersText.warnings(shares) { writeToStandardError("smbvol: warning: \(warning)\n") }
    }
}
