import NIOCore

/// Clients blocked on keys, in the order they blocked (Redis serves the longest
/// waiting client first).
final class BlockingRegistry {
    private struct Key: Hashable {
        let db: UInt8
        let key: ByteBuffer
    }

    /// Client IDs waiting on each key, oldest first.
    private var waiting: [Key: [Int]] = [:]
    private var keysOf: [Int: [Key]] = [:]
    private var serving = false

    /// Clients waiting in a blocking command.
    var count: Int { keysOf.count }

    func add(_ client: Int, keys: [(UInt8, ByteBuffer)]) {
        var ks: [Key] = []
        for (db, key) in keys {
            let k = Key(db: db, key: key)
            if ks.contains(k) { continue }
            ks.append(k)
            waiting[k, default: []].append(client)
        }
        keysOf[client] = ks
    }

    func remove(_ client: Int) {
        for k in keysOf.removeValue(forKey: client) ?? [] {
            waiting[k]?.removeAll { $0 == client }
            if waiting[k]?.isEmpty == true { waiting.removeValue(forKey: k) }
        }
    }

    func isWaited(_ db: UInt8, _ key: ByteBuffer) -> Bool { waiting[Key(db: db, key: key)] != nil }

    /// Every key some client waits on.
    func waitedKeys() -> [(UInt8, ByteBuffer)] { waiting.keys.map { ($0.db, $0.key) } }

    /// SWAPDB of physical databases `a` and `b`: a waiting client keeps its logical
    /// database, whose data now lives in the other physical one, so its waits move
    /// there. Returns the keys now waited on in either, for the caller to signal:
    /// the data swapped in may serve them, as Redis's SWAPDB does.
    func swapDatabases(_ a: UInt8, _ b: UInt8) -> [(UInt8, ByteBuffer)] {
        guard !waiting.isEmpty else { return [] }
        func moved(_ k: Key) -> Key { k.db == a ? Key(db: b, key: k.key) : k.db == b ? Key(db: a, key: k.key) : k }
        waiting = Dictionary(uniqueKeysWithValues: waiting.map { (moved($0.key), $0.value) })
        keysOf = keysOf.mapValues { $0.map(moved) }
        return waiting.keys.filter { $0.db == a || $0.db == b }.map { ($0.db, $0.key) }
    }

    /// Serves clients blocked on the keys that received data, oldest first, until
    /// a key runs dry. Runs after the command that pushed, so that command's
    /// effect is complete (an LPUSH of three elements serves three waiters).
    func serve(_ server: ServerState) {
        guard !serving else { return }
        serving = true
        defer { serving = false }
        while !server.touchedKeys.isEmpty {
            let (db, key) = server.touchedKeys.removeFirst()
            let k = Key(db: db, key: key)
            while let first = waiting[k]?.first {
                guard let session = server.sessions[first] else {
                    remove(first)  // gone without saying so: cannot happen, but never spin
                    continue
                }
                if session.retryBlocked() { break }  // nothing left for it: the key is dry
            }
        }
    }
}

