import ArgumentParser
import SmbvolUseCases

/// `--domain NAME|UUID [--connect URI]`: a UUID is used as is; a name is looked up through a
/// read-only libvirt connection (operator commands only — never the hook).
struct DomainSelection: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The domain, by name or UUID.", valueName: "name|uuid"))
    var domain: String

    @Option(name: .long, help: ArgumentHelp("libvirt URI to look a domain name up (read-only).", valueName: "uri"))
    var connect: String = "qemu:///system"

    /// (name, uuid) of the domain.
    func resolve() throws -> (name: String, uuid: DomainUUID) { try ResolveDomain(uri: connect)(domain) }
}
