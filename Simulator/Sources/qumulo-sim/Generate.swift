import ArgumentParser
import Foundation
import QumuloSimulator

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a large, consistent scenario, deterministic for a seed.")

    @Option(help: "Number of open handles.")
    var handles: Int

    @Option(help: "Number of files the handles are spread over.")
    var files: Int

    @Option(help: "Number of SMB sessions (clients).")
    var sessions: Int

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Output file (default: stdout).")
    var output: String?

    func run() throws {
        let scenario: Scenario
        do {
            scenario = try ScenarioGenerator.scenario(
                .init(handles: handles, files: files, sessions: sessions, seed: seed))
        } catch {
            throw ValidationError(error.description)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(scenario)
        if let output {
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        } else {
            FileHandle.standardOutput.write(data)
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
    }
}
