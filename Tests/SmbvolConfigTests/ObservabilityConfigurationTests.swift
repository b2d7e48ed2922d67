import SmbvolConfig
import Testing

@Suite("configuration: journal_socket and metrics_file")
struct ObservabilityConfigurationTests {
    func parse(_ text: String) throws -> SmbvolConfiguration {
        try ConfigurationLoader().parse(text, file: "/etc/smbvol/smbvol.toml")
    }

    @Test("the journal is on by default, off with \"\", and off when syslog_socket points elsewhere without journal_socket")
    func journalSocket() throws {
        #expect(try parse("").journalSocket == "/run/systemd/journal/socket")
        #expect(try parse("syslog_socket = \"/dev/log\"\n").journalSocket == "/run/systemd/journal/socket")
        #expect(try parse("journal_socket = \"\"\n").journalSocket == nil)
        #expect(try parse("syslog_socket = \"/tmp/log\"\n").journalSocket == nil)
        #expect(try parse("syslog_socket = \"/tmp/log\"\njournal_socket = \"/tmp/journal\"\n").journalSocket == "/tmp/journal")
        #expect(throws: ConfigurationError.self) { try parse("journal_socket = \"relative\"\n") }
    }

    @Test("metrics_file: none by default; an absolute .prom path; anything else is an error naming the key")
    func metricsFile() throws {
        #expect(try parse("").metricsFile == nil)
        #expect(try parse("metrics_file = \"/var/lib/prometheus/node-exporter/smbvol.prom\"\n").metricsFile
            == "/var/lib/prometheus/node-exporter/smbvol.prom")
        do {
            _ = try parse("metrics_file = \"/tmp/smbvol.txt\"\n")
            Issue.record("a file node_exporter would not read was accepted")
        } catch {
            #expect("\(error)".contains("metrics_file") && "\(error)".contains(".prom"), "\(error)")
        }
    }
}
