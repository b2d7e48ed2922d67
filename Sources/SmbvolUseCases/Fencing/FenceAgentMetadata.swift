/// `fence_smbvol -o metadata`: the XML HA managers read (the shape of ClusterLabs' agents).
/// A storage fence never powers a node on: the node is unfenced (`on`) on itself when it starts
/// again, which `on_target="1" automatic="1"` announces, as `fence_scsi` does.
public enum FenceAgentMetadata {
    struct Parameter {
        var name: String
        var getopt: String
        var type: String
        var required = false
        var defaultValue: String?
        var deprecated = false
        var obsoletes: String?
        var description: String
    }

    static let parameters: [Parameter] = [
        Parameter(name: "action", getopt: "-o, --action=[action]", type: "string", required: true, defaultValue: "off", description: "Fencing action"),
        Parameter(
            name: "plug", getopt: "-n, --plug=[host_id]", type: "string", required: true, obsoletes: "port",
            description: "host_id of the node to fence (its addresses come from its smbvol heartbeat records on the shares)"),
        Parameter(
            name: "port", getopt: "-n, --plug=[host_id]", type: "string", required: true, deprecated: true,
            description: "host_id of the node to fence (its addresses come from its smbvol heartbeat records on the shares)"),
        Parameter(
            name: "address", getopt: "--address=[addresses]", type: "string",
            description: "Comma-separated single IP addresses of the node, instead of those of its heartbeat records"),
        Parameter(
            name: "config", getopt: "--config=[file]", type: "string", defaultValue: "/etc/smbvol/smbvol.toml",
            description: "smbvol configuration; the fencing account is fence_username/fence_password_file or fence_access_token_file of its [cluster.NAME] table"),
        Parameter(name: "cluster", getopt: "--cluster=[name]", type: "string", description: "The [cluster.NAME] table to use when several are configured"),
        Parameter(name: "share", getopt: "--share=[names]", type: "string", description: "Comma-separated configured shares to fence on (default: every share of the cluster)"),
        Parameter(
            name: "host_map", getopt: "--host-map=[map]", type: "string",
            description: "Addresses of nodes instead of their heartbeat records, as pcmk_host_map: host_id:ADDR[,ADDR];host_id:ADDR"),
        Parameter(name: "verbose", getopt: "-v, --verbose", type: "boolean", description: "Verbose mode"),
        Parameter(name: "debug", getopt: "--debug", type: "boolean", description: "Debug messages on stderr (never secrets)"),
        Parameter(name: "version", getopt: "-V, --version", type: "boolean", description: "Display version information and exit"),
        Parameter(name: "help", getopt: "-h, --help", type: "boolean", description: "Display help and exit"),
    ]

    public static func xml() -> String {
        var lines = [
            "<?xml version=\"1.0\" ?>",
            "<resource-agent name=\"fence_smbvol\" shortdesc=\"Storage fence agent for VM images on Qumulo SMB shares (smbvol)\" >",
            "<longdesc>fence_smbvol cuts a node off the SMB shares its VM images live on: it puts a DENIED entry for the node's addresses first in each share's host restrictions on the Qumulo cluster, then closes the node's SMB sessions, then verifies both. The node cannot write to its images any more, so its VMs can be started elsewhere at once. It is a storage fence, not a power fence: the node keeps running, and is unfenced (action on) when it starts again.</longdesc>",
            "<vendor-url>https://qumulo.com</vendor-url>",
            "<parameters>",
        ]
        for parameter in parameters {
            var attributes = "name=\"\(parameter.name)\" unique=\"0\" required=\"\(parameter.required ? 1 : 0)\""
            if parameter.deprecated { attributes += " deprecated=\"1\"" }
            if let obsoletes = parameter.obsoletes { attributes += " obsoletes=\"\(obsoletes)\"" }
            lines.append("\t<parameter \(attributes)>")
            lines.append("\t\t<getopt mixed=\"\(escaped(parameter.getopt))\" />")
            lines.append("\t\t<content type=\"\(parameter.type)\"\(parameter.defaultValue.map { " default=\"\(escaped($0))\"" } ?? "")  />")
            lines.append("\t\t<shortdesc lang=\"en\">\(escaped(parameter.description))</shortdesc>")
            lines.append("\t</parameter>")
        }
        lines += [
            "</parameters>",
            "<actions>",
            "\t<action name=\"on\" on_target=\"1\" automatic=\"1\"/>",
            "\t<action name=\"off\" />",
            "\t<action name=\"status\" />",
            "\t<action name=\"list\" />",
            "\t<action name=\"monitor\" />",
            "\t<action name=\"metadata\" />",
            "\t<action name=\"validate-all\" />",
            "</actions>",
            "</resource-agent>",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
