import QumuloClient
import SmbvolSystem
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("The qq credential store")
struct CredentialStoreTests {
    private func temporaryDirectory() -> String {
        var template = Array("/tmp/smbvol-store-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    @Test("qq's path: XDG_CONFIG_HOME when absolute, else ~/.config; host lowercased")
    func defaultPath() throws {
        let store = try CredentialStore.defaultStore(host: "Cluster.Example", port: 8000, environment: ["HOME": "/home/op", "XDG_CONFIG_HOME": "relative"])
        #expect(store.path == "/home/op/.config/qumulo/credentials/cluster.example_8000")
        #expect(store.legacyPath == "/home/op/.qfsd_cred")
        let xdg = try CredentialStore.defaultStore(host: "q", port: 9000, environment: ["HOME": "/home/op", "XDG_CONFIG_HOME": "/xdg"])
        #expect(xdg.path == "/xdg/qumulo/credentials/q_9000")
    }

    @Test("writes qq's format, 0600 in a 0700 directory, and reads it back")
    func roundTrip() throws {
        let directory = temporaryDirectory()
        let store = CredentialStore(path: directory + "/credentials/host_8000")
        try store.save(token: Secret("session-v1:abc\"def"))
        let text = String(decoding: try readWholeFile(store.path), as: UTF8.self)
        #expect(text == "{\"bearer_token\": \"session-v1:abc\\\"def\", \"version\": 1}\n")
        var info = stat()
        #expect(stat(store.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(stat(directory + "/credentials", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        #expect(try store.loadToken()?.reveal() == "session-v1:abc\"def")
    }

    @Test("an empty file means no credentials; a wrong version is an error")
    func emptyAndVersion() throws {
        let directory = temporaryDirectory()
        let path = directory + "/store"
        try AtomicFileWriter().write([], to: path)
        #expect(try CredentialStore(path: path).loadToken() == nil)
        try AtomicFileWriter().write(Array(#"{"bearer_token": "x", "version": 2}"#.utf8), to: path)
        #expect(throws: CredentialStore.Failure.unsupportedVersion(path: path, version: 2)) { try CredentialStore(path: path).loadToken() }
        try AtomicFileWriter().write(Array("{not json".utf8), to: path)
        #expect(throws: CredentialStore.Failure.self) { try CredentialStore(path: path).loadToken() }
    }

    @Test("falls back to the legacy ~/.qfsd_cred only when the store was not named")
    func legacy() throws {
        let directory = temporaryDirectory()
        try AtomicFileWriter().write(Array(#"{"bearer_token": "legacy", "version": 1}"#.utf8), to: directory + "/.qfsd_cred")
        let store = try CredentialStore.defaultStore(host: "h", port: 1, environment: ["HOME": directory])
        #expect(try store.loadToken()?.reveal() == "legacy")
        #expect(try CredentialStore(path: directory + "/none").loadToken() == nil)
    }

    @Test("Secret never shows its value when interpolated")
    func secretRedacted() {
        let secret = Secret("hunter2")
        #expect("\(secret)" == "<redacted>")
        #expect(String(describing: [secret]) == "[<redacted>]")
    }
}
