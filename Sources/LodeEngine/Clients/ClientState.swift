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
    /// Reply bytes not yet written to the socket, as last measured (CLIENT LIST omem).
    var outputBytes = 0
    /// Since when (ms) the client is over its class's soft output limit.
    var overSoftLimitSince: Int64?

    init(id: Int, authenticated: Bool, address: String, localAddress: String, now: Int64) {
        self.id = id
        self.authenticated = authenticated
        self.address = address
        self.localAddress = localAddress
        createdAt = now
        lastInteraction = now
    }
}
