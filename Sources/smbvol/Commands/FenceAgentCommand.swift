import ArgumentParser
import Logging
import SmbvolLogging
import SmbvolPresentation
import SmbvolSystem
import SmbvolUseCases
import SmbvolWiring

/// `smbvol fence-agent …`, the same as running the binary as `fence_smbvol`: a fence agent in
/// the ClusterLabs convention for Pacemaker and Masakari-style HA managers.
struct FenceAgentCommand: ParsableCommand, OwnsDeadline {
    static let deadline = CommandBounds.Deadline.none
    static let configuration = CommandConfiguration(
        commandName: "fence-agent",
        abstract: "Run as the fence agent fence_smbvol (options as key=value lines on stdin, or as arguments).",
        discussion: """
            Actions: off (fence), on (unfence), status (exit 0 = not fenced, 2 = fenced, 1 = error), list, \
            monitor, metadata, validate-all. `smbvol fence-agent -o metadata` prints the parameters. \
            Link or copy the binary as /usr/sbin/fence_smbvol for HA managers. See README, "Fencing".
            """)

    @Argument(parsing: .captureForPassthrough, help: "Agent options: --key value, key=value, -o ACTION, -n PLUG; none: read stdin.")
    var arguments: [String] = []

    func run() throws {
        let status = FenceAgentRunner.run(arguments: arguments)
        if status != 0 { throw ExitCode(status) }
    }
}

/// One agent invocation: its options, its action, its lines and exit status (0 ok, 1 error,
/// 2 for `status` when the node is fenced).
enum FenceAgentRunner {
    static func run(arguments: [String]) -> Int32 {
        let options: FenceAgentOptions
        do {
            options = try FenceAgentOptions.of(arguments: arguments)
        } catch {
            writeToStandardError("fence_smbvol: error: \(oneLine("\(error)"))\n")
            return 1
        }
        for key in options.ignored { writeToStandardError("fence_smbvol: Parse error: Ignoring unknown option '\(oneLine(key))'\n") }
        let output = OutputWriter()
        defer { output.flush() }
        if options.help {
            output.line("fence_smbvol: storage fence agent for VM images on Qumulo SMB shares; `fence_smbvol -o metadata` lists the options")
            return 0
        }
        if options.version {
            output.line(smbvolVersion)
            return 0
        }
        if options.action == .metadata {
            output.write(FenceAgentMetadata.xml())
            return 0
        }
        LoggingSetup.bootstrap(
            standardErrorLevel: options.debug ? .debug : (options.verbose ? .info : .warning), syslogLevel: .notice,
            operator: AuditEvent.invokingOperator(environment: ProcessEnvironment.current()))
        let logger = Logger(label: "smbvol")
        let say: (String) -> Void = { line in if options.verbose || options.debug { writeToStandardError("fence_smbvol: \(oneLine(line))\n") } }
        do {
            try FenceAgent.requireNode(options)
            let configuration = try FenceAgent.configuration(for: options, environment: ProcessEnvironment.current())
            let answer = try FenceAgent(
                options: options, configuration: configuration, logger: logger,
                openSession: {
                    try FenceSession.connecting(
                        configuration: configuration, selection: ClusterSelection(cluster: options.cluster), onlyShares: options.shares,
                        logger: logger, say: say)
                })()
            output.lines(FenceText.agentLines(answer))
            return answer == .statusOff ? 2 : 0
        } catch {
            let message = oneLine(SecretRedactor.shared.redact("\(error)"))
            writeToStandardError("fence_smbvol: error: \(message)\n")
            logger.error("fence agent action failed", metadata: ["action": "\(options.action.rawValue)", "error": "\(message)"])
            return 1
        }
    }
}
