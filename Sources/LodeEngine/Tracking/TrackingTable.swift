import NIOCore

/// One client's CLIENT TRACKING settings (Redis's CLIENT_TRACKING_* flags and
/// client_tracking_redirection / client_tracking_prefixes).
struct TrackingState {
    var on = false
    var bcast = false
    var optin = false
    var optout = false
    var noloop = false
    /// CLIENT CACHING yes (OPTIN) or no (OPTOUT) was given for the next command.
    var caching = false
    /// The client it redirects to is gone.
    var brokenRedirect = false
    /// The client ID invalidations go to; 0 = this client itself.
    var redirect = 0
    /// BCAST prefixes, in byte order (as Redis's radix tree lists them).
    var prefixes: [ByteBuffer] = []

    /// Whether the keys read by the command that just ran are remembered
    /// (OPTIN needs CACHING yes before it, OPTOUT skips after CACHING no).
    var remembersReads: Bool { on && !bcast && !(optin && !caching) && !(optout && caching) }
}

/// Who may cache what, as Redis's tracking.c keeps it: the tracking table (key
/// name → the clients that read it in default mode; key names are global, not
/// per database) and the prefix table of BCAST mode (prefix → its clients, and
/// the keys modified under it since the last broadcast, each with the client
/// that modified it last, so NOLOOP can leave a client's own writes out).
///
/// Client IDs stay in the table after a client turns tracking off or goes
/// away: like Redis, they are dropped lazily when the key is invalidated.
final class TrackingTable {
    struct Prefix {
        var clients: [Int] = []
        /// Modified keys → the client ID that modified each last (nil: expiry).
        var keys: [ByteBuffer: Int?] = [:]
    }

    private(set) var readers: [ByteBuffer: Set<Int>] = [:]
    /// Client IDs summed over every key (INFO tracking_total_items).
    private(set) var totalItems = 0
    private(set) var prefixes: [ByteBuffer: Prefix] = [:]
    /// Clients with tracking on (INFO tracking_clients).
    var trackingClients = 0
    /// Rounds of the size limit that ended still over it (Redis's timeout_counter).
    var limitRounds = 0

    var keyCount: Int { readers.count }
    var isActive: Bool { trackingClients > 0 || !readers.isEmpty }

    func remember(_ key: ByteBuffer, for client: Int) {
        if readers[key, default: []].insert(client).inserted { totalItems += 1 }
    }

    /// Removes `key` from the table and returns the IDs that had read it.
    func takeReaders(of key: ByteBuffer) -> Set<Int>? {
        guard let ids = readers.removeValue(forKey: key) else { return nil }
        totalItems -= ids.count
        return ids
    }

    /// Some key of the table (to evict when over tracking-table-max-keys).
    var anyKey: ByteBuffer? { readers.first?.key }

    /// FLUSHALL/FLUSHDB: every key is invalid at once.
    func removeAllKeys() {
        readers.removeAll()
        totalItems = 0
    }

    // MARK: BCAST prefixes

    func addPrefix(_ prefix: ByteBuffer, client: Int) -> Bool {
        if prefixes[prefix]?.clients.contains(client) == true { return false }
        prefixes[prefix, default: Prefix()].clients.append(client)
        return true
    }

    func removePrefix(_ prefix: ByteBuffer, client: Int) {
        prefixes[prefix]?.clients.removeAll { $0 == client }
        if prefixes[prefix]?.clients.isEmpty == true { prefixes.removeValue(forKey: prefix) }
    }

    /// A key was modified: every prefix it starts with will broadcast it.
    /// Returns whether any did.
    func noteModified(_ key: ByteBuffer, by writer: Int?) -> Bool {
        var matched = false
        let name = key.readableBytesView
        for (prefix, _) in prefixes where name.starts(with: prefix.readableBytesView) {
            prefixes[prefix]!.keys[key] = .some(writer)
            matched = true
        }
        return matched
    }

    var hasPendingBroadcasts: Bool { prefixes.values.contains { !$0.keys.isEmpty } }

    /// The keys modified under each prefix since the last call, prefixes and
    /// keys in byte order; the prefixes' key sets are emptied.
    func takeBroadcasts() -> [(clients: [Int], keys: [(ByteBuffer, Int?)])] {
        var out: [(clients: [Int], keys: [(ByteBuffer, Int?)])] = []
        for prefix in prefixes.keys.sorted(by: Self.byteOrder) {
            guard let p = prefixes[prefix], !p.keys.isEmpty else { continue }
            let keys = p.keys.sorted { Self.byteOrder($0.key, $1.key) }.map { ($0.key, $0.value) }
            out.append((p.clients, keys))
            prefixes[prefix]!.keys.removeAll()
        }
        return out
    }

    static func byteOrder(_ a: ByteBuffer, _ b: ByteBuffer) -> Bool {
        a.readableBytesView.lexicographicallyPrecedes(b.readableBytesView)
    }

    /// Redis's checkPrefixCollisionsOrReply: two prefixes of one client collide
    /// when one starts with the other (both would announce the same key).
    static func collision(_ new: [ByteBuffer], existing: [ByteBuffer]) -> String? {
        func overlap(_ a: ByteBuffer, _ b: ByteBuffer) -> Bool {
            let n = min(a.readableBytes, b.readableBytes)
            return a.readableBytesView.prefix(n).elementsEqual(b.readableBytesView.prefix(n))
        }
        for (i, p) in new.enumerated() {
            if let old = existing.first(where: { overlap($0, p) }) {
                return "ERR Prefix '\(String(buffer: p))' overlaps with an existing prefix '\(String(buffer: old))'. "
                    + "Prefixes for a single client must not overlap."
            }
            if let other = new[(i + 1)...].first(where: { overlap(p, $0) }) {
                return "ERR Prefix '\(String(buffer: p))' overlaps with another provided prefix '\(String(buffer: other))'. "
                    + "Prefixes for a single client must not overlap."
            }
        }
        return nil
    }
}
