import ArgumentParser

struct HandlesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handles",
        abstract: "List and close SMB file handles on the cluster (what the Qumulo SMB lock manager script does, faster and scriptable).",
        subcommands: [HandlesListCommand.self, HandlesCloseCommand.self])
}
