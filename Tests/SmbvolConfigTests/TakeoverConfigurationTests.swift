import SmbvolConfig
import Testing

@Suite("Configuration: on_takeover and libvirt_uri")
struct TakeoverConfigurationTests {
    @Test("defaults: pause, through qemu:///system")
    func defaults() throws {
        let configuration = try ConfigurationLoader().parse("", file: "smbvol.toml")
        #expect(configuration.onTakeover == .pause)
        #expect(configuration.libvirtURI == "qemu:///system")
    }

    @Test("every choice is read; anything else names the key")
    func choices() throws {
        for choice in SmbvolConfiguration.OnTakeover.allCases {
            let configuration = try ConfigurationLoader().parse("on_takeover = \"\(choice.rawValue)\"\nlibvirt_uri = \"test:///default\"\n", file: "smbvol.toml")
            #expect(configuration.onTakeover == choice)
            #expect(configuration.libvirtURI == "test:///default")
        }
        #expect(throws: (any Error).self) { try ConfigurationLoader().parse("on_takeover = \"kill\"\n", file: "smbvol.toml") }
        do {
            _ = try ConfigurationLoader().parse("on_takeover = \"kill\"\n", file: "smbvol.toml")
        } catch {
            #expect("\(error)".contains("on_takeover"), "\(error)")
        }
    }
}
