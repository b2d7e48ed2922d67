/// Builds large, self-consistent scenarios deterministically from a seed: every handle's owner
/// has an identity, every session's originator is some handle's client address.
public enum ScenarioGenerator {
    /// Appends generated entries to `scenario`, keeping ids and locations clear of existing ones.
    public static func expand(_ spec: Scenario.GenerateSpec, into scenario: inout Scenario) throws(ScenarioError) {
        guard spec.handles >= 0 else { throw .invalidGenerateSpec("handles must not be negative") }
        guard spec.files >= 1 else { throw .invalidGenerateSpec("files must be at least 1") }
        guard spec.sessions >= 1 else { throw .invalidGenerateSpec("sessions must be at least 1") }
        var random = SplitMix64(seed: spec.seed)

        let shareName = "gen"
        let sharePath = "/gen"
        if !scenario.shares.contains(where: { $0.name == shareName }) {
            let nextID = (scenario.shares.compactMap { Int($0.id) }.max() ?? 0) + 1
            scenario.shares.append(.init(id: String(nextID), name: shareName, fsPath: sharePath))
        }
        let firstFileID = (scenario.files.compactMap { Int($0.id) }.max() ?? 0) + 1_000_000
        var files: [Scenario.File] = []
        files.reserveCapacity(spec.files)
        for index in 0..<spec.files {
            let directory = index / 1000
            files.append(
                .init(
                    path: "\(sharePath)/dir\(directory)/image-\(index).qcow2", id: String(firstFileID + index),
                    size: String(1 << 30)))
        }
        scenario.files += files

        // One client (address + service account) per session.
        struct Client {
            var address: String
            var authID: String
        }
        var clients: [Client] = []
        for index in 0..<spec.sessions {
            let authID = String(2_000_000 + index)
            clients.append(Client(address: "10.\(64 + index / 65536).\(index / 256 % 256).\(index % 256)", authID: authID))
            scenario.identities.append(
                .init(
                    authID: authID, name: "gen-user-\(index)", domain: "ACTIVE_DIRECTORY", uid: 20_000 + index,
                    gid: 100, sid: "S-1-5-21-7-7-7-\(20_000 + index)"))
            scenario.sessions.append(
                .init(
                    originator: clients[index].address, authID: authID,
                    idleSeconds: Double(random.next(below: 7200)), shareNames: [shareName]))
        }

        scenario.handles.reserveCapacity(scenario.handles.count + spec.handles)
        for index in 0..<spec.handles {
            let file = files[random.next(below: files.count)]
            let client = clients[random.next(below: clients.count)]
            var handle = Scenario.Handle(
                path: file.path, location: "9.\(index / 65536).\(index % 65536)", owner: client.authID,
                clientAddress: client.address, numByteRangeLocks: random.next(below: 4) == 0 ? 1 : 0)
            handle.grants = random.next(below: 50) != 0
            scenario.handles.append(handle)
        }
        scenario.generate = nil
    }

    /// A generated scenario with the default admin user, for `qumulo-sim generate`.
    public static func scenario(_ spec: Scenario.GenerateSpec) throws(ScenarioError) -> Scenario {
        var scenario = Scenario(users: [.init(name: "admin", password: "secret", authID: "500")])
        try expand(spec, into: &scenario)
        return scenario
    }
}

/// Small, fast, seedable generator (SplitMix64), so a seed always yields the same scenario.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: Int) -> Int {
        Int(next() % UInt64(max(1, bound)))
    }
}
