import Foundation
import NIOCore
import XCTest
@testable import LodeStore

/// A store in a fresh temporary directory (1 GiB map), closed and removed after
/// each test; for tests that work on one store throughout.
class StoreTestCase: XCTestCase {
    var dir: String!
    var store: Store!

    override func setUp() {
        dir = NSTemporaryDirectory() + "lode-\(type(of: self))-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var o = Store.Options(path: dir)
        o.mapSize = 1 << 30
        store = try! Store(options: o)
    }

    override func tearDown() {
        store.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func b(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }
}
