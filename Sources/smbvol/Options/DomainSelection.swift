import ArgumentParser
import LibvirtDomains
import SmbvolUseCases

/// `--domain NAME|UUID [--connect URI]`: a UUID is used as is; a name is looked up through a
/// read-only libvirt connection (operator commands only — never the hook).
struct DomainSelection: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The domain, by name or UUID.", valueName: "name|uuid"))
    var domain: String

    @Option(name: .long, help: ArgumentHelp("libvirt URI to look a domain name up (read-only).", valueName: "uri"))
    var connect: String = "qemu:///system"

    /// (name, uuid) of the domain.
    func resolve() throws -> (String, DomainUUID) {
        if let uuid = DomainUUID(domain) { return (domain, uuid) }
        let connection = try LibvirtConnection(readOnly: connect)
        guard let found = try connection.listDomains().first(where: { $0.name == domain }) else {
            throw ValidationError("no domain named \(domain) on \(connect); give its UUID instead")
        }
        guard let uuid = DomainUUID(found.uuid) else { throw ValidationError("libvirt gave an invalid UUID for \(domain)") }
        return (found.name, uuid)
    }
}
