import Foundation
import QumuloSimulator
import Testing

@Suite("Scenario generator")
struct GeneratorTests {
    @Test("generation is deterministic for a seed and consistent")
    func deterministic() throws {
        let spec = Scenario.GenerateSpec(handles: 500, files: 50, sessions: 20, seed: 7)
        let first = try ScenarioGenerator.scenario(spec)
        let second = try ScenarioGenerator.scenario(spec)
        #expect(first.handles.map(\.location) == second.handles.map(\.location))
        #expect(first.handles.map(\.path) == second.handles.map(\.path))
        let other = try ScenarioGenerator.scenario(.init(handles: 500, files: 50, sessions: 20, seed: 8))
        #expect(first.handles.map(\.path) != other.handles.map(\.path))

        let identities = Set(first.identities.map(\.authID))
        let originators = Set(first.sessions.map(\.originator))
        #expect(first.handles.allSatisfy { identities.contains($0.owner) })
        #expect(first.handles.allSatisfy { originators.contains($0.clientAddress) })
        #expect(first.files.count == 50 && first.sessions.count == 20 && first.handles.count == 500)
    }

    @Test("100 000 handles load from a generate section and page quickly")
    func largeScenarioPages() async throws {
        let service = try SimulatorService(
            scenarioJSON: """
                {"users": [{"name": "admin", "password": "secret", "auth_id": "500"}],
                 "access_tokens": [{"token": "access-v1:abc", "user": "admin"}],
                 "files": [{"path": "/vms/a.qcow2", "id": "1"}],
                 "generate": {"handles": 100000, "files": 20000, "sessions": 500, "seed": 3}}
                """)
        #expect(service.handleCount == 100_000)
        let clock = ContinuousClock()
        var total = 0
        var pages = 0
        // Scan the bodies as text: this measures the server, not a debug-build JSON parser.
        let elapsed = await clock.measure {
            var next: String? = "/v1/smb/files/?resolve_paths=false"
            while let target = next, pages < 1_000 {
                let body = await service.get(target).bodyString
                pages += 1
                total += body.components(separatedBy: "\"location\":").count - 1
                next = body.components(separatedBy: "\"next\":\"").dropFirst().first?
                    .components(separatedBy: "\"").first
            }
        }
        #expect(pages == 200)
        #expect(total == 100_000)
        #expect(elapsed < .seconds(20))
    }
}
