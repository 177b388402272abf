import Foundation
import LodeStore
import Logging
import NIOCore
import NIOEmbedded
import XCTest
@testable import LodeEngine

/// Commands through the real dispatch path on a real store in a scratch
/// directory, with no network: sessions are fed requests and their reply bytes
/// are read back. The engine test cases derive from it.
class EngineTestCase: XCTestCase {
    var dir: String!
    var server: ServerState!
    let loop = EmbeddedEventLoop()

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "lode-engine-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try open(config: Configuration())
    }

    /// Opens (or reopens, after `server.store.close()`) the store with `config`.
    func open(config: Configuration) throws {
        var options = Store.Options(path: dir)
        options.mapSize = 1 << 26
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        server = ServerState(config: config, store: try Store(options: options), logger: logger, configFile: nil)
    }

    override func tearDown() {
        server.store.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func session() throws -> ClientSession {
        guard case .success(let s) = server.connect(remote: nil, local: nil, loop: loop) else {
            throw XCTSkip("connection refused")
        }
        return s
    }

    /// Runs one command and returns the reply bytes it wrote (and anything
    /// pushed to the session before).
    @discardableResult
    func run(_ s: ClientSession, _ words: String...) -> String {
        s.receive(words.map { ByteBuffer(string: $0) })
        return output(s)
    }

    /// What the session holds for its client, taken.
    func output(_ s: ClientSession) -> String { String(buffer: s.takeOutput(allocator: ByteBufferAllocator())) }
}
