import ArgumentParser
import Logging
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

#if canImport(Glibc)
import Glibc
#endif

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

enum FenceAgentRunner {
    static let ok: Int32 = 0
    static let error: Int32 = 1
    static let statusOff: Int32 = 2

    /// Runs one agent invocation; returns the exit status.
    static func run(arguments: [String]) -> Int32 {
        let options: FenceAgentOptions
        do {
            if arguments.isEmpty {
                let bytes = try FileDescriptorIO.readAll(STDIN_FILENO, limit: 64 * 1024, path: "stdin")
                options = try FenceAgentOptions.parse(stdinText: String(decoding: bytes, as: UTF8.self))
            } else {
                options = try FenceAgentOptions.parse(arguments: arguments)
            }
        } catch {
            writeToStandardError("fence_smbvol: error: \(oneLine("\(error)"))\n")
            return self.error
        }
        for key in options.ignored { writeToStandardError("fence_smbvol: Parse error: Ignoring unknown option '\(oneLine(key))'\n") }
        let output = OutputWriter()
        defer { output.flush() }
        if options.help {
            output.line("fence_smbvol: storage fence agent for VM images on Qumulo SMB shares; `fence_smbvol -o metadata` lists the options")
            return ok
        }
        if options.version {
            output.line(smbvolVersion)
            return ok
        }
        if options.action == .metadata {
            output.write(FenceAgentMetadata.xml())
            return ok
        }
        LoggingSetup.bootstrap(
            standardErrorLevel: options.debug ? .debug : (options.verbose ? .info : .warning), syslogLevel: .notice,
            operator: AuditEvent.invokingOperator(environment: ProcessEnvironment.current()))
        let logger = Logger(label: "smbvol")
        let say: (String) -> Void = { line in if options.verbose || options.debug { writeToStandardError("fence_smbvol: \(oneLine(line))\n") } }
        do {
            try FenceAgent.requireNode(options)
            let path = options.config ?? ProcessEnvironment.current()["SMBVOL_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? SmbvolConfiguration.defaultPath
            let configuration = try ConfigurationLoader().load(path: path, requireFile: true)
            Observability.configure(configuration)
            switch try FenceAgent(options: options, configuration: configuration, logger: logger, say: say)() {
            case .poweredOff: output.line("Success: Powered OFF")
            case .poweredOn: output.line("Success: Powered ON")
            case .statusOn: output.line("Status: ON")
            case .statusOff:
                output.line("Status: OFF")
                return statusOff
            case .hosts(let hosts): for host in hosts { output.line("\(host.hostID),\(host.hostname)") }
            case .passed: break
            }
            return ok
        } catch {
            let message = oneLine(SecretRedactor.shared.redact("\(error)"))
            writeToStandardError("fence_smbvol: error: \(message)\n")
            logger.error("fence agent action failed", metadata: ["action": "\(options.action.rawValue)", "error": "\(message)"])
            return self.error
        }
    }
}
