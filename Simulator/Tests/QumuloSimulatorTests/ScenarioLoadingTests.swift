import QumuloSimulator
import Testing

@Suite("Scenario loading")
struct ScenarioLoadingTests {
    @Test("the basic scenario loads; directories are implied by files and shares")
    func loadsAndImpliesDirectories() async throws {
        let service = try SimulatorService.basic()
        #expect(service.handleCount == 4)
        #expect(service.pageSize == 500)
        let vms = try #require(await service.get("/v1/files/%2Fvms/info/attributes").json)
        #expect(vms["type"]?.stringValue == "FS_FILE_TYPE_DIRECTORY")
        let root = try #require(await service.get("/v1/files/%2F/info/attributes").json)
        #expect(root["type"]?.stringValue == "FS_FILE_TYPE_DIRECTORY")
        let file = try #require(await service.get("/v1/files/1002/info/attributes").json)
        #expect(file["size"]?.stringValue == "2048")
        #expect(file["file_number"]?.stringValue == "1002")
    }

    @Test("malformed or inconsistent scenarios are rejected with a clear error")
    func rejectsBadScenarios() {
        #expect(throws: ScenarioError.self) { try SimulatorService(scenarioJSON: "{not json") }
        #expect(throws: ScenarioError.handleOnUnknownFile(location: "1", path: "/x")) {
            try SimulatorService(
                scenarioJSON: #"{"handles": [{"path": "/x", "location": "1", "owner": "1", "client_address": "a"}]}"#)
        }
        #expect(throws: ScenarioError.duplicateLocation("1")) {
            try SimulatorService(
                scenarioJSON: """
                    {"files": [{"path": "/f", "id": "1"}], "handles": [
                      {"path": "/f", "location": "1", "owner": "1", "client_address": "a"},
                      {"path": "/f", "location": "1", "owner": "1", "client_address": "a"}]}
                    """)
        }
        #expect(throws: ScenarioError.tokenForUnknownUser("ghost")) {
            try SimulatorService(scenarioJSON: #"{"access_tokens": [{"token": "t", "user": "ghost"}]}"#)
        }
        #expect(throws: ScenarioError.relativePath("vms/a")) {
            try SimulatorService(scenarioJSON: #"{"files": [{"path": "vms/a", "id": "1"}]}"#)
        }
        #expect(throws: ScenarioError.duplicateFileID("1")) {
            try SimulatorService(scenarioJSON: #"{"files": [{"path": "/a", "id": "1"}, {"path": "/b", "id": "1"}]}"#)
        }
        #expect(throws: ScenarioError.invalidFault("status fault needs \"status\"")) {
            try SimulatorService(scenarioJSON: #"{"faults": [{"kind": "status"}]}"#)
        }
        #expect(throws: ScenarioError.self) {
            try SimulatorService(scenarioJSON: #"{"faults": [{"kind": "explode"}]}"#)
        }
        #expect(throws: ScenarioError.invalidPageSize(0)) { try SimulatorService(scenarioJSON: #"{"page_size": 0}"#) }
    }

    @Test("a missing key names where it is missing")
    func missingKeyMessage() {
        do {
            _ = try SimulatorService(scenarioJSON: #"{"files": [{"path": "/a"}]}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("id"))
        }
    }
}
