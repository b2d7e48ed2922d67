import Hummingbird
import HummingbirdCore
import NIOCore
import NIOSSL
import HummingbirdTLS
import Logging

/// Serves a `SimulatorService` over HTTP or HTTPS with Hummingbird.
public struct SimulatorServer: Sendable {
    public struct TLSFiles: Sendable {
        public var certificatePath: String
        public var keyPath: String

        public init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    public var service: SimulatorService
    public var host: String
    public var port: Int
    public var tls: TLSFiles?
    public var logger: Logger

    public init(service: SimulatorService, host: String, port: Int, tls: TLSFiles?, logger: Logger) {
        self.service = service
        self.host = host
        self.port = port
        self.tls = tls
        self.logger = logger
    }

    /// Runs until the task is cancelled; `onListening` gets the bound port.
    public func run(onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let responder = SimulatorResponder(service: service, logger: logger)
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let builder: HTTPServerBuilder
        if let tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.keyPath, format: .pem)
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(key))
            builder = try .tls(.http1(), tlsConfiguration: configuration)
        } else {
            builder = .http1()
        }
        let app = Application(
            responder: responder,
            server: builder,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? port)
            },
            logger: serverLogger)
        try await app.run()
    }
}

/// Adapts Hummingbird requests to the transport-free `SimulatorService`.
struct SimulatorResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let service: SimulatorService
    let logger: Logger

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 256 * 1024 * 1024)
        let simulatorRequest = SimulatorRequest(
            method: request.method.rawValue,
            target: request.head.path ?? "/",
            authorization: request.headers[.authorization],
            ifMatch: request.headers[.ifMatch],
            body: Array(buffer: body))
        let answer = await service.handle(simulatorRequest)
        logger.debug("\(simulatorRequest.method) \(simulatorRequest.target) \(answer.status)")
        if answer.hangs {
            await service.waitWhileHanging()
            throw CancellationError()
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let etag = answer.etag { headers[.eTag] = etag }
        return Response(
            status: .init(code: answer.status),
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
