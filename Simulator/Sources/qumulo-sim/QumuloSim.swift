import ArgumentParser

@main
struct QumuloSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qumulo-sim",
        abstract: "A Qumulo REST API simulator for smbvol's tests (and the official qq CLI).",
        subcommands: [Serve.self, Generate.self],
        defaultSubcommand: Serve.self)
}
