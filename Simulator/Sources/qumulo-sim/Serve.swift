import ArgumentParser
import Dispatch
import Foundation
import Logging
import QumuloSimulator

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a scenario over HTTPS (with --tls-cert/--tls-key) or plain HTTP.")

    @Option(help: "Scenario JSON file.")
    var scenario: String

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8000

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain; enables HTTPS with --tls-key.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key.")
    var tlsKey: String?

    @Option(name: .customLong("port-file"), help: "Write the bound port here (atomically) once listening.")
    var portFile: String?

    @Option(name: .customLong("page-size"), help: "Largest page the server hands out (overrides the scenario).")
    var pageSize: Int?

    @Option(name: .customLong("api-prefix"), help: "Serve the API under this path prefix only, e.g. /api (overrides the scenario's cluster.api_prefix).")
    var apiPrefix: String?

    @Option(name: .customLong("samba-config"), help: "Serve files, handles, sessions and grants from the live smbd of this smb.conf (the Samba backend); the scenario still gives users, identities and shares.")
    var sambaConfig: String?

    @Option(name: .customLong("samba-root"), help: "With --samba-config: the server directory that is the cluster's \"/\".")
    var sambaRoot: String?

    @Option(name: .customLong("samba-server"), help: "With --samba-config: the address srvsvc dials (port 445).")
    var sambaServer = "127.0.0.1"

    @Option(name: .customLong("samba-admin-file"), help: "With --samba-config: \"user\\npassword\\n\" of an SMB account that may list and close opens.")
    var sambaAdminFile: String?

    @Option(name: .customLong("samba-helper"), help: "With --samba-config: tools/samba-qumulo-helper.py.")
    var sambaHelper: String?

    @Option(name: .customLong("samba-enter-pid-file"), help: "With --samba-config: a file with the pid of a process in smbd's namespaces; the helper runs there (nsenter -m -n -p).")
    var sambaEnterPIDFile: String?

    @Option(name: .customLong("samba-timeout"), help: "With --samba-config: seconds each helper run may take.")
    var sambaTimeout: Double = 10

    @Flag(help: "Log one line per request to stderr.")
    var verbose = false

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        if sambaConfig != nil, sambaRoot == nil || sambaAdminFile == nil || sambaHelper == nil {
            throw ValidationError("--samba-config needs --samba-root, --samba-admin-file and --samba-helper")
        }
        if let pageSize, pageSize < 1 { throw ValidationError("--page-size must be at least 1") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0...65535") }
        if let apiPrefix, !apiPrefix.isEmpty, !apiPrefix.hasPrefix("/") || apiPrefix.contains("?") {
            throw ValidationError("--api-prefix must be a path such as /api")
        }
    }

    func run() async throws {
        let level: Logger.Level = verbose ? .debug : .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "qumulo-sim")
        let service: SimulatorService
        do {
            var samba: SambaBackendConfiguration?
            if let sambaConfig, let sambaRoot, let sambaAdminFile, let sambaHelper {
                var configuration = SambaBackendConfiguration(
                    smbConfig: sambaConfig, helper: sambaHelper, serverAddress: sambaServer,
                    adminFile: sambaAdminFile, root: sambaRoot)
                configuration.enterPIDFile = sambaEnterPIDFile
                configuration.timeoutSeconds = sambaTimeout
                samba = configuration
            }
            service = try SimulatorService(
                scenario: try Scenario.load(path: scenario), pageSize: pageSize, apiPrefix: apiPrefix, samba: samba)
        } catch {
            FileHandle.standardError.write(Data("qumulo-sim: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        let signals = SignalExit.install { service.beginShutdown() }
        defer { withExtendedLifetime(signals) {} }

        let tls = tlsCert.flatMap { cert in tlsKey.map { SimulatorServer.TLSFiles(certificatePath: cert, keyPath: $0) } }
        let scheme = tls == nil ? "http" : "https"
        let host = self.host
        let portFile = self.portFile
        let server = SimulatorServer(service: service, host: host, port: port, tls: tls, logger: logger)
        try await server.run { boundPort in
            FileHandle.standardOutput.write(Data("listening on \(scheme)://\(host):\(boundPort)\n".utf8))
            if let portFile {
                do {
                    try Data("\(boundPort)\n".utf8).write(to: URL(fileURLWithPath: portFile), options: .atomic)
                } catch {
                    FileHandle.standardError.write(Data("qumulo-sim: cannot write port file: \(error)\n".utf8))
                }
            }
        }
    }
}

/// SIGTERM/SIGINT end the process promptly with status 0, even with hanging requests open.
enum SignalExit {
    static func install(onSignal: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                onSignal()
                fflush(nil)
                exit(0)
            }
            source.resume()
            return source
        }
    }
}
