import ArgumentParser

struct HandlesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handles",
        abstract: "List and close SMB file handles on the cluster (the seed lock manager's functions).",
        subcommands: [HandlesListCommand.self, HandlesCloseCommand.self])
}
