import QumuloSimulator

/// A small scenario and request helpers shared by the simulator's tests.
enum Fixtures {
    static let basic = """
        {
          "users": [
            {"name": "admin", "password": "secret", "auth_id": "500"},
            {"name": "reader", "password": "pw", "auth_id": "501",
             "privileges": ["PRIVILEGE_SMB_FILE_HANDLE_READ"]}
          ],
          "access_tokens": [{"token": "access-v1:abc", "user": "admin"}],
          "identities": [
            {"auth_id": "1001", "name": "svc-kvm", "domain": "ACTIVE_DIRECTORY", "uid": 1001, "gid": 100,
             "sid": "S-1-5-21-1-2-3-1001"},
            {"auth_id": "1002", "name": "svc-other", "domain": "ACTIVE_DIRECTORY", "uid": 1002, "gid": 100,
             "sid": "S-1-5-21-1-2-3-1002"}
          ],
          "shares": [{"id": "1", "name": "vms", "fs_path": "/vms"}],
          "files": [
            {"path": "/vms/a.qcow2", "id": "1001", "size": "1048576"},
            {"path": "/vms/a b.qcow2", "id": "1002", "size": 2048},
            {"path": "/vms/odd #%+.qcow2", "id": "1003"},
            {"path": "/vms/ünï cödé.qcow2", "id": "1004"}
          ],
          "sessions": [
            {"originator": "10.0.0.5", "auth_id": "1001", "idle_seconds": 5, "share_names": ["vms"]},
            {"originator": "10.0.0.6", "auth_id": "1002", "idle_seconds": 900, "share_names": ["vms"]}
          ],
          "handles": [
            {"path": "/vms/a.qcow2", "location": "4.1.1", "owner": "1001", "client_address": "10.0.0.5",
             "num_byte_range_locks": 1},
            {"path": "/vms/a b.qcow2", "location": "4.1.2", "owner": "1001", "client_address": "10.0.0.5"},
            {"path": "/vms/a b.qcow2", "location": "4.1.3", "owner": "1002", "client_address": "10.0.0.6",
             "num_byte_range_locks": 2},
            {"path": "/vms/a b.qcow2", "location": "4.1.4", "owner": "1003", "client_address": "10.0.0.9",
             "grants": false}
          ]
        }
        """

    /// `count` handles on one file, to exercise paging.
    static func manyHandles(_ count: Int, pageSize: Int) -> String {
        let handles = (0..<count).map {
            """
            {"path": "/vms/big.qcow2", "location": "7.0.\($0)", "owner": "1001", "client_address": "10.0.0.5",
             "num_byte_range_locks": 1}
            """
        }
        let other = """
            {"path": "/vms/other.qcow2", "location": "8.0.0", "owner": "1001", "client_address": "10.0.0.5"}
            """
        return """
            {"users": [{"name": "admin", "password": "secret", "auth_id": "500"}],
             "access_tokens": [{"token": "access-v1:abc", "user": "admin"}],
             "files": [{"path": "/vms/big.qcow2", "id": "42"}, {"path": "/vms/other.qcow2", "id": "43"}],
             "handles": [\((handles + [other]).joined(separator: ","))],
             "page_size": \(pageSize)}
            """
    }
}

extension SimulatorService {
    static func basic() throws -> SimulatorService { try SimulatorService(scenarioJSON: Fixtures.basic) }

    func get(_ target: String, token: String? = "access-v1:abc") async -> SimulatorResponse {
        await handle(SimulatorRequest(method: "GET", target: target, authorization: token.map { "Bearer \($0)" }))
    }

    func post(_ target: String, _ json: String, token: String? = "access-v1:abc") async -> SimulatorResponse {
        await handle(SimulatorRequest(method: "POST", target: target, bearer: token, json: json))
    }

    func delete(_ target: String) async -> SimulatorResponse {
        await handle(SimulatorRequest(method: "DELETE", target: target))
    }

    /// Follows `paging.next` from `target`, collecting `key` items; stops at a null next, a short
    /// page (grants), or after `maxPages`.
    func collect(_ target: String, key: String, stopOnShortPage limit: Int? = nil, maxPages: Int = 10_000)
        async -> (items: [JSONValue], requests: [String])
    {
        var items: [JSONValue] = []
        var requests: [String] = []
        var next: String? = target
        while let current = next, requests.count < maxPages {
            requests.append(current)
            guard let page = await get(current).json, let list = page[key]?.arrayValue else { break }
            items += list
            if let limit, list.count < limit { break }
            next = page["paging"]?["next"]?.stringValue
        }
        return (items, requests)
    }
}
