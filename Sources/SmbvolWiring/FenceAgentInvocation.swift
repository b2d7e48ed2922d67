import SmbvolUseCases
import SmbvolConfig
import SmbvolSystem

#if canImport(Glibc)
import Glibc
#endif

extension FenceAgentOptions {
    /// The options of one agent invocation: from its arguments, or — given none — from the
    /// key=value lines HA managers write on stdin (at most 64 KiB).
    public static func of(arguments: [String]) throws -> FenceAgentOptions {
        guard arguments.isEmpty else { return try parse(arguments: arguments) }
        let bytes = try FileDescriptorIO.readAll(STDIN_FILENO, limit: 64 * 1024, path: "stdin")
        return try parse(stdinText: String(decoding: bytes, as: UTF8.self))
    }
}

extension FenceAgent {
    /// The configuration an agent action works on: `config=`, else SMBVOL_CONFIG, else the
    /// default path; the file must exist.
    public static func configuration(for options: FenceAgentOptions, environment: [String: String]) throws -> SmbvolConfiguration {
        let path = options.config ?? environment["SMBVOL_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? SmbvolConfiguration.defaultPath
        let configuration = try ConfigurationLoader().load(path: path, requireFile: true)
        Observability.configure(configuration)
        return configuration
    }
}
