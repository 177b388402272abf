import LodeRESP

/// Per-connection state, as Redis's `client` struct: selected database, protocol,
/// authentication, name, and the figures CLIENT LIST reports.
public final class ClientState {
    let id: Int
    var db = 0
    var resp = RESPVersion.resp2
    var authenticated: Bool
    var name = ""
    let address: String
    /// Connected through the loopback (Redis's islocalClient).
    var isLocal: Bool { address.hasPrefix("127.") || address.hasPrefix("::1:") || address.hasPrefix("::ffff:127.") }
    let localAddress: String
    let createdAt: Int64
    var lastInteraction: Int64
    var lastCommand = "NULL"
    /// The connection's mode (normal, blocked, transaction, closing, …): one state machine.
    var connection = ConnectionState()
    /// WATCHed keys, and whether one was touched since (EXEC then fails).
    var watch = WatchState()
    /// Pub/sub subscriptions; the client is "subscribed" while it has any.
    var subscriptions = Subscriptions()
    /// In MONITOR mode: every command run is sent to it.
    var isMonitor = false
    /// Its command waits for CLIENT PAUSE to end (CLIENT LIST shows it blocked).
    var isPostponed = false
    /// CLIENT NO-EVICT (Lode never evicts clients; CLIENT LIST shows the flag).
    var noEvict = false
    /// CLIENT TRACKING: client-side caching settings.
    var tracking = TrackingState()
    /// CLIENT REPLY: replies are dropped while off, or for the next command after SKIP.
    var replies = ReplyMode.on
    /// Reply bytes not yet written to the socket, as last measured (CLIENT LIST omem).
    var outputBytes = 0
    /// Input bytes buffered for this client, the request being run included (CLIENT LIST qbuf).
    var queryBufferBytes = 0
    /// Bytes of the arguments of the request being run (CLIENT LIST argv-mem).
    var argumentBytes = 0
    /// Since when (ms) the client is over its class's soft output limit.
    var overSoftLimitSince: Int64?
    /// What REPLCONF announced (SYNC's framing, rdb-only).
    var replica = ReplicaHandshake()

    init(id: Int, authenticated: Bool, address: String, localAddress: String, now: Int64) {
        self.id = id
        self.authenticated = authenticated
        self.address = address
        self.localAddress = localAddress
        createdAt = now
        lastInteraction = now
    }
}

/// CLIENT REPLY ON|OFF|SKIP. Out-of-band frames (subscription confirmations,
/// published messages, invalidations) are delivered whatever the mode, as Redis
/// delivers what it marks CLIENT_PUSHING.
enum ReplyMode {
    case on, off
    /// Set by CLIENT REPLY SKIP: the next command's reply is dropped.
    case skipNext
    /// The command now running has its reply dropped (after SKIP).
    case skipping

    var dropsReply: Bool { self == .off || self == .skipping }
}
