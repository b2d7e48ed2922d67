import SmbvolConfig
import Testing

@Suite("Configuration: heartbeat keys")
struct HeartbeatConfigurationTests {
    @Test("defaults: no host_id (machine id), every 10 s, fresh within 3 × the interval")
    func defaults() throws {
        let configuration = try ConfigurationLoader().parse("", file: "smbvol.toml")
        #expect(configuration.hostID == nil)
        #expect(configuration.heartbeatIntervalSeconds == 10)
        #expect(configuration.effectiveHeartbeatFreshSeconds == 30)
    }

    @Test("host_id, heartbeat_interval_seconds and heartbeat_fresh_seconds are read")
    func keys() throws {
        let configuration = try ConfigurationLoader().parse(
            "host_id = \"kvm-a.dc1\"\nheartbeat_interval_seconds = 5\n", file: "smbvol.toml")
        #expect(configuration.hostID == "kvm-a.dc1")
        #expect(configuration.effectiveHeartbeatFreshSeconds == 15)
        let explicit = try ConfigurationLoader().parse("heartbeat_fresh_seconds = 45.5\n", file: "smbvol.toml")
        #expect(explicit.effectiveHeartbeatFreshSeconds == 45.5)
    }

    @Test(
        "bad values name the key and the line",
        arguments: [
            ("host_id = \"../../etc\"\n", "host_id"), ("host_id = \".hidden\"\n", "host_id"), ("host_id = \"\"\n", "host_id"),
            ("heartbeat_interval_seconds = 0\n", "heartbeat_interval_seconds"), ("heartbeat_fresh_seconds = \"x\"\n", "heartbeat_fresh_seconds"),
        ])
    func badValues(_ text: String, _ key: String) {
        #expect {
            _ = try ConfigurationLoader().parse(text, file: "smbvol.toml")
        } throws: { error in
            let message = "\(error)"
            return message.contains(key) && message.contains("smbvol.toml:1")
        }
    }
}
