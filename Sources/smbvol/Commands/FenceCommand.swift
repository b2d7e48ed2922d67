import ArgumentParser
import SmbvolSystem
import SmbvolUseCases

/// `smbvol fence HOST`: storage fencing through the cluster.
struct FenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fence",
        abstract: "Cut a host off the shares: deny its addresses on the cluster and close its SMB sessions.",
        discussion: """
            HOST is a host_id (its addresses come from its heartbeat records on the mounted shares); \
            --address names them instead. On every configured share of the cluster (or --share), a DENIED \
            entry for exactly those single addresses, all rights, is put first in the share's host \
            restrictions (written with If-Match; retried when someone else edited meanwhile); then every \
            SMB session from them is closed; then both are read back. Idempotent. Uses the fencing \
            account (fence_username/fence_password_file or fence_access_token_file), never the hook's. \
            Refuses this host's and the cluster's addresses, ranges, and anything that would deny \
            everyone. --list shows who is fenced. See README, "Fencing".
            """)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var clusterOptions: ClusterOptions
    @OptionGroup var loggingOptions: LoggingOptions

    @Argument(help: ArgumentHelp("The host_id of the host to fence.", valueName: "host"))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("A single address of the host (repeatable); instead of its heartbeat records.", valueName: "addr"))
    var address: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only this configured share (repeatable).", valueName: "name"))
    var share: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Show the plan; change nothing.")
    var dryRun = false

    @Flag(name: .long, help: "List the fenced hosts: addresses, shares, since when, by whom.")
    var list = false

    @Flag(name: .long, help: "With --list: print JSON {\"fenced\": [{host, addresses, shares, fenced_at, fenced_by, in_force}]}.")
    var json = false

    func validate() throws {
        if list {
            if host != nil || !address.isEmpty || dryRun { throw ValidationError("--list takes no HOST, --address or --dry-run") }
        } else if host == nil && address.isEmpty {
            throw ValidationError("name the host to fence: HOST (a host_id) or --address ADDR")
        }
        if json && !list { throw ValidationError("--json goes with --list") }
    }

    func run() throws {
        let logger = loggingOptions.bootstrap()
        let output = OutputWriter()
        defer { output.flush() }
        try reportingErrors {
            let configuration = try configOption.load()
            let session = try FenceSession(
                configuration: configuration, selection: clusterOptions.selection, onlyShares: share, logger: logger,
                say: { output.line($0) })
            if list {
                let fenced = try session.listFenced()
                if json {
                    output.write(JSONWriter.document(.object([("fenced", .array(fenced.map(FenceText.json)))])))
                } else if fenced.isEmpty {
                    output.line("no host is fenced on the \(session.fence.shares.count) share(s) of cluster \(session.fence.clusterName)")
                } else {
                    for entry in fenced { output.line(FenceText.line(entry)) }
                }
                return
            }
            let target = try session.target(host: host, addresses: address, purpose: .fence, dryRun: dryRun)
            try session.fence.fence(target, dryRun: dryRun)
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

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var clusterOptions: ClusterOptions
    @OptionGroup var loggingOptions: LoggingOptions

    @Argument(help: ArgumentHelp("The host_id of the host to unfence.", valueName: "host"))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("A single fenced address (repeatable): exactly the addresses of its fence entry.", valueName: "addr"))
    var address: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only this configured share (repeatable).", valueName: "name"))
    var share: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Show the plan; change nothing.")
    var dryRun = false

    func validate() throws {
        if host == nil && address.isEmpty { throw ValidationError("name the host to unfence: HOST (a host_id) or --address ADDR") }
    }

    func run() throws {
        let logger = loggingOptions.bootstrap()
        let output = OutputWriter()
        defer { output.flush() }
        try reportingErrors {
            let configuration = try configOption.load()
            let session = try FenceSession(
                configuration: configuration, selection: clusterOptions.selection, onlyShares: share, logger: logger,
                say: { output.line($0) })
            let target = try session.target(host: host, addresses: address, purpose: .unfence, dryRun: dryRun)
            try session.fence.unfence(target, dryRun: dryRun)
        }
    }
}

enum FenceText {
    static func json(_ entry: StorageFence.Listed) -> JSONValue {
        .object([
            ("host", .string(entry.host)), ("addresses", .strings(entry.addresses)), ("shares", .strings(entry.shares)),
            ("fenced_at", .nullable(entry.fencedAt)), ("fenced_by", .nullable(entry.fencedBy)), ("in_force", .bool(entry.inForce)),
            ("host_source", .nullable(entry.hostSource)), ("recorded_here", .bool(entry.recordedHere)),
        ])
    }

    static func line(_ entry: StorageFence.Listed) -> String {
        let addresses = entry.addresses.joined(separator: ",")
        if !entry.inForce {
            let since = entry.fencedAt.map { "since \($0) by \(entry.fencedBy ?? "?")" } ?? ""
            return "\(entry.host)  \(addresses)  recorded \(since), but no share denies it any more"
        }
        let shares = "on \(entry.shares.joined(separator: ", "))"
        if entry.recordedHere {
            return "\(entry.host)  \(addresses)  since \(entry.fencedAt ?? "?") by \(entry.fencedBy ?? "?")  \(shares)"
        }
        let named: String
        switch entry.hostSource {
        case "heartbeat records": named = "host named by its heartbeat records"
        case "host_map": named = "host named by host_map"
        default: named = "no heartbeat record lists these addresses"
        }
        return "\(entry.host)  \(addresses)  \(shares)  (\(named); fenced from another host: no fence record here)"
    }
}
