import Foundation
import Testing

/// Where the built executables, the package and the official `qq` CLI are.
enum TestBinaries {
    /// The package root, derived from this file's location (Tests/IntegrationTests/Support/).
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Support
            .deletingLastPathComponent()  // IntegrationTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()
            .path
    }

    /// A built executable of this package (smbvol): `$SMBVOL_BIN_DIR/name`, else next to the
    /// running test bundle.
    static func path(_ name: String) -> String {
        let path = URL(fileURLWithPath: binDirectory).appendingPathComponent(name).path
        if !FileManager.default.isExecutableFile(atPath: path) {
            Issue.record(
                "executable \(name) not found at \(path); build the package first or set SMBVOL_BIN_DIR")
        }
        return path
    }

    /// Where smbvol was built: `$SMBVOL_BIN_DIR`, else the running test bundle's directory.
    static var binDirectory: String {
        if let fromEnvironment = ProcessInfo.processInfo.environment["SMBVOL_BIN_DIR"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }

    /// Where qumulo-sim was built — its own package, Simulator/: `$SMBVOL_SIM_BIN_DIR`, else
    /// smbvol's directory when it holds one, else the simulator package's debug build.
    static var simulatorDirectory: String {
        if let fromEnvironment = ProcessInfo.processInfo.environment["SMBVOL_SIM_BIN_DIR"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        if FileManager.default.isExecutableFile(atPath: binDirectory + "/qumulo-sim") { return binDirectory }
        return packageRoot + "/Simulator/.build/debug"
    }

    /// The simulator's executable.
    static var qumuloSim: String {
        let path = simulatorDirectory + "/qumulo-sim"
        if !FileManager.default.isExecutableFile(atPath: path) {
            Issue.record(
                """
                qumulo-sim not found at \(path); build the simulator's package \
                (swift build --package-path Simulator) or set SMBVOL_SIM_BIN_DIR
                """)
        }
        return path
    }

    /// The official CLI: `$SMBVOL_QQ`, else `<package root>/.venv-qq/bin/qq`. Missing qq fails the test.
    static var qq: String {
        let path: String
        if let fromEnvironment = ProcessInfo.processInfo.environment["SMBVOL_QQ"], !fromEnvironment.isEmpty {
            path = fromEnvironment
        } else {
            path = packageRoot + "/.venv-qq/bin/qq"
        }
        if !FileManager.default.isExecutableFile(atPath: path) {
            Issue.record(
                """
                the official qq CLI is missing at \(path). Run the README's test command, which creates it \
                (python3 -m venv .venv-qq && .venv-qq/bin/pip install qumulo-api), or set SMBVOL_QQ.
                """)
        }
        return path
    }
}
