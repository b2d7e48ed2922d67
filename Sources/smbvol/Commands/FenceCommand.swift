import ArgumentParser
import SmbvolLogging
import SmbvolPresentation
import SmbvolUseCases
import SmbvolWiring

/// `smbvol fence HOST`: storage fencing through the cluster.
struct FenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fence",
        abstract: "Cut a host off the shares: deny its addresses on the cluster and close its SMB sessions.",
        discussion: """
            HOST is a host_id (its addresses come from its heartbeat records on the configured shares; \
            a share this host has not mounted is mounted for that read and unmounted again, unless a \
            domain uses it by then); --address names them instead. On every configured share of the cluster (or --share), a DENIED \
            entry for exactly those single addresses, all rights, is put first in the share's host \
            restrictions (written with If-Match; retried when someone else edited meanwhile); then every \
            SMB session from them is closed; then both are read back. Idempotent. Uses the fencing \
            account (fence_username/fence_password_file or fence_access_token_file), never the hook's. \
            Refuses this host's and the cluster's addresses, ranges, and anything that would deny \
            everyone; every refusal is a fence-refuse audit event. --list shows who is fenced, from the \
            cluster's entries (hosts fenced from elsewhere named by their heartbeat records). See README, "Fencing".
            """)

    @OptionGroup var options: FenceTargetOptions

    @Flag(name: .long, help: "List the fenced hosts: addresses, shares, since when, by whom.")
    var list = false

    @Flag(
        name: .long,
        help: "Print JSON on stdout (progress goes to stderr): with --list {\"fenced\": [{host, addresses, shares, fenced_at, fenced_by, in_force, host_source, recorded_here}]}; else {\"fence\": {host, addresses, source, dry_run, changed_shares, closed_sessions, verified}}.")
    var json = false

    func validate() throws {
        if list {
            if options.host != nil || !options.address.isEmpty || options.dryRun { throw ValidationError("--list takes no HOST, --address or --dry-run") }
        } else if options.host == nil && options.address.isEmpty {
            throw ValidationError("name the host to fence: HOST (a host_id) or --address ADDR")
        }
    }

    func run() throws {
        let output = OutputWriter()
        defer { output.flush() }
        try reportingErrors {
            let session = try options.session(output: output, json: json)
            if list {
                let fenced = try session.listFenced()
                if json {
                    output.write(FenceText.listDocument(fenced))
                } else {
                    output.lines(FenceText.listLines(fenced, shareCount: session.fence.shares.count, clusterName: session.fence.clusterName))
                }
                return
            }
            let target = try session.target(host: options.host, addresses: options.address, purpose: .fence, dryRun: options.dryRun)
            let outcome = try session.fence.fence(target, dryRun: options.dryRun)
            if json { output.write(FenceText.fenceDocument(target, dryRun: options.dryRun, outcome: outcome)) }
        }
    }
}

/// `smbvol unfence HOST`.
struct UnfenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unfence",
        abstract: "Let a fenced host back: remove exactly the entry `smbvol fence` added.",
        discussion: """
            Removes, from every configured share of the cluster (or --share), the DENIED entry of exactly \
            HOST's fenced addresses (from smbvol's fence record, else its heartbeat records, or --address); \
            nothing else in the host restrictions changes. Written with If-Match, verified by reading back. \
            Idempotent.
            """)

    @OptionGroup var options: FenceTargetOptions

    @Flag(name: .long, help: "Print JSON on stdout (progress goes to stderr): {\"unfence\": {host, addresses, source, dry_run, changed_shares}}.")
    var json = false

    func validate() throws {
        if options.host == nil && options.address.isEmpty { throw ValidationError("name the host to unfence: HOST (a host_id) or --address ADDR") }
    }

    func run() throws {
        let output = OutputWriter()
        defer { output.flush() }
        try reportingErrors {
            let session = try options.session(output: output, json: json)
            let target = try session.target(host: options.host, addresses: options.address, purpose: .unfence, dryRun: options.dryRun)
            let changed = try session.fence.unfence(target, dryRun: options.dryRun)
            if json { output.write(FenceText.unfenceDocument(target, dryRun: options.dryRun, changedShares: changed)) }
        }
    }
}

/// What `fence` and `unfence` both take: the host (a host_id, or its addresses), the shares,
/// the cluster and the fencing account.
struct FenceTargetOptions: ParsableArguments {
    @OptionGroup var common: ClusterCommandOptions

    @Argument(help: ArgumentHelp("The host_id of the host.", valueName: "host"))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("A single address of the host (repeatable): instead of its heartbeat records (or, to unfence, its fence record).", valueName: "addr"))
    var address: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only this configured share (repeatable).", valueName: "name"))
    var share: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Show the plan; change nothing.")
    var dryRun = false

    /// The fence of the configured cluster; its progress lines go to stdout, or to stderr under
    /// `--json` (stdout then holds the document only).
    func session(output: OutputWriter, json: Bool) throws -> FenceSession {
        let logger = common.loggingOptions.bootstrap()
        return try FenceSession.connecting(
            configuration: try common.configOption.load(), selection: common.clusterOptions.selection, onlyShares: share, logger: logger,
            say: json ? { writeToStandardError(oneLine($0) + "\n") } : { output.line($0) })
    }
}
