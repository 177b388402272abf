import LodeRESP
import NIOCore

/// One client's subscriptions. Plain and pattern subscriptions count together
/// in replies; shard channels (SSUBSCRIBE) count on their own, as in Redis.
struct Subscriptions {
    var channels: [ByteBuffer] = []
    var patterns: [ByteBuffer] = []
    var shardChannels: [ByteBuffer] = []

    /// The count SUBSCRIBE/PSUBSCRIBE (and their UNSUBSCRIBEs) reply with.
    var count: Int { channels.count + patterns.count }
    /// Any subscription at all: RESP2 restricts the client's commands then.
    var isSubscribed: Bool { count + shardChannels.count > 0 }
}

/// Who is subscribed to what, and delivery of published messages to their
/// sessions (by client ID). Subscribers of a channel are served in the order
/// they subscribed, then pattern subscribers pattern by pattern in the order
/// the patterns were first subscribed.
final class PubSubRegistry {
    enum Kind { case channel, pattern, shard }

    private var channels: [ByteBuffer: [Int]] = [:]
    private var shardChannels: [ByteBuffer: [Int]] = [:]
    private var patterns: [ByteBuffer: [Int]] = [:]
    private var patternOrder: [ByteBuffer] = []

    /// Adds `client` to `name`; false when it was subscribed already.
    func subscribe(_ client: ClientState, _ name: ByteBuffer, _ kind: Kind) -> Bool {
        switch kind {
        case .channel:
            guard !client.subscriptions.channels.contains(name) else { return false }
            client.subscriptions.channels.append(name)
            channels[name, default: []].append(client.id)
        case .shard:
            guard !client.subscriptions.shardChannels.contains(name) else { return false }
            client.subscriptions.shardChannels.append(name)
            shardChannels[name, default: []].append(client.id)
        case .pattern:
            guard !client.subscriptions.patterns.contains(name) else { return false }
            client.subscriptions.patterns.append(name)
            if patterns[name] == nil { patternOrder.append(name) }
            patterns[name, default: []].append(client.id)
        }
        return true
    }

    /// Removes `client` from `name`; false when it was not subscribed.
    func unsubscribe(_ client: ClientState, _ name: ByteBuffer, _ kind: Kind) -> Bool {
        switch kind {
        case .channel:
            guard let i = client.subscriptions.channels.firstIndex(of: name) else { return false }
            client.subscriptions.channels.remove(at: i)
            Self.remove(client.id, from: name, in: &channels)
        case .shard:
            guard let i = client.subscriptions.shardChannels.firstIndex(of: name) else { return false }
            client.subscriptions.shardChannels.remove(at: i)
            Self.remove(client.id, from: name, in: &shardChannels)
        case .pattern:
            guard let i = client.subscriptions.patterns.firstIndex(of: name) else { return false }
            client.subscriptions.patterns.remove(at: i)
            Self.remove(client.id, from: name, in: &patterns)
            if patterns[name] == nil { patternOrder.removeAll { $0 == name } }
        }
        return true
    }

    private static func remove(_ id: Int, from name: ByteBuffer, in map: inout [ByteBuffer: [Int]]) {
        map[name]?.removeAll { $0 == id }
        if map[name]?.isEmpty == true { map.removeValue(forKey: name) }
    }

    /// Drops every subscription of a client that is gone or RESET.
    func removeAll(_ client: ClientState) {
        for c in client.subscriptions.channels { _ = unsubscribe(client, c, .channel) }
        for p in client.subscriptions.patterns { _ = unsubscribe(client, p, .pattern) }
        for s in client.subscriptions.shardChannels { _ = unsubscribe(client, s, .shard) }
    }

    // MARK: publishing

    /// Delivers `message` to every subscriber; returns how many received it.
    /// A frame is encoded once per protocol version, into the first subscriber's
    /// buffer, and copied from there into the others'.
    func publish(_ channel: ByteBuffer, _ message: ByteBuffer, shard: Bool, sessions: [Int: ClientSession]) -> Int {
        var receivers = 0
        var frames = FrameCache()
        for id in (shard ? shardChannels : channels)[channel] ?? [] {
            guard let s = sessions[id] else { continue }
            frames.deliver(to: s) { out, resp in
                out.writePushHeader(3, resp)
                out.writeBulk(string: shard ? "smessage" : "message")
                out.writeBulk(channel)
                out.writeBulk(message)
            }
            receivers += 1
        }
        guard !shard, !patternOrder.isEmpty else { return receivers }
        let name = Array(channel.readableBytesView)
        for pattern in patternOrder where globMatch(Array(pattern.readableBytesView), name, noCase: false) {
            var patternFrames = FrameCache()
            for id in patterns[pattern] ?? [] {
                guard let s = sessions[id] else { continue }
                patternFrames.deliver(to: s) { out, resp in
                    out.writePushHeader(4, resp)
                    out.writeBulk(string: "pmessage")
                    out.writeBulk(pattern)
                    out.writeBulk(channel)
                    out.writeBulk(message)
                }
                receivers += 1
            }
        }
        return receivers
    }

    /// One message's frame per protocol version, as written for its first receiver.
    private struct FrameCache {
        private var resp2: ByteBuffer?
        private var resp3: ByteBuffer?

        mutating func deliver(to s: ClientSession, encode: (inout ByteBuffer, RESPVersion) -> Void) {
            let version = s.client.resp
            if let frame = version == .resp3 ? resp3 : resp2 { return s.push(frame) }
            let frame = s.push { encode(&$0, version) }
            if version == .resp3 { resp3 = frame } else { resp2 = frame }
        }
    }

    // MARK: PUBSUB introspection

    func activeChannels(shard: Bool) -> [ByteBuffer] { Array((shard ? shardChannels : channels).keys) }

    func subscriberCount(_ channel: ByteBuffer, shard: Bool) -> Int { (shard ? shardChannels : channels)[channel]?.count ?? 0 }

    var patternCount: Int { patterns.count }
    var channelCount: Int { channels.count }
}
