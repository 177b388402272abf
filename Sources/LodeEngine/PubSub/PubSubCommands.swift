import LodeRESP
import NIOCore

/// SUBSCRIBE and the rest of pub/sub, sharded pub/sub included (on one node it
/// behaves as plain pub/sub, as in Redis), with Redis 7.0's frames: arrays in
/// RESP2, pushes in RESP3.
enum PubSubCommands {
    static let handlers: [String: CommandHandler] = [
        "subscribe": { (c: inout CommandContext) throws(CommandError) in subscribe(&c, .channel) },
        "psubscribe": { (c: inout CommandContext) throws(CommandError) in subscribe(&c, .pattern) },
        "ssubscribe": { (c: inout CommandContext) throws(CommandError) in subscribe(&c, .shard) },
        "unsubscribe": { (c: inout CommandContext) throws(CommandError) in unsubscribe(&c, .channel) },
        "punsubscribe": { (c: inout CommandContext) throws(CommandError) in unsubscribe(&c, .pattern) },
        "sunsubscribe": { (c: inout CommandContext) throws(CommandError) in unsubscribe(&c, .shard) },
        "publish": { (c: inout CommandContext) throws(CommandError) in publish(&c, shard: false) },
        "spublish": { (c: inout CommandContext) throws(CommandError) in publish(&c, shard: true) },
        "pubsub|channels": { (c: inout CommandContext) throws(CommandError) in try channels(&c, shard: false) },
        "pubsub|shardchannels": { (c: inout CommandContext) throws(CommandError) in try channels(&c, shard: true) },
        "pubsub|numsub": { (c: inout CommandContext) throws(CommandError) in numsub(&c, shard: false) },
        "pubsub|shardnumsub": { (c: inout CommandContext) throws(CommandError) in numsub(&c, shard: true) },
        "pubsub|numpat": { (c: inout CommandContext) throws(CommandError) in c.out.writeIntegerReply(c.server.pubsub.patternCount) },
        "pubsub|help": { (c: inout CommandContext) throws(CommandError) in c.writeHelp(help) },
    ]

    static let help = [
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
    ]

    static func verb(_ kind: PubSubRegistry.Kind, subscribe: Bool) -> String {
        let prefix = subscribe ? "" : "un"
        switch kind {
        case .channel: return prefix + "subscribe"
        case .pattern: return "p" + prefix + "subscribe"
        case .shard: return "s" + prefix + "subscribe"
        }
    }

    static func count(_ c: CommandContext, _ kind: PubSubRegistry.Kind) -> Int {
        kind == .shard ? c.client.subscriptions.shardChannels.count : c.client.subscriptions.count
    }

    /// A (un)subscription's confirmation: delivered even under CLIENT REPLY OFF.
    static func writeFrame(_ c: inout CommandContext, _ verb: String, _ name: ByteBuffer?, _ count: Int) {
        let resp = c.resp
        c.session.pushing { out in
            out.writePushHeader(3, resp)
            out.writeBulk(string: verb)
            if let name { out.writeBulk(name) } else { out.writeNull(resp) }
            out.writeIntegerReply(count)
        }
    }

    static func subscribe(_ c: inout CommandContext, _ kind: PubSubRegistry.Kind) {
        // Inside EXEC (Redis's DENY_BLOCKING) only SSUBSCRIBE refuses; SUBSCRIBE
        // and PSUBSCRIBE are let through because the client is in MULTI.
        if kind == .shard && c.denyBlocking {
            return c.out.writeError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
        }
        for i in 1..<c.args.count {
            _ = c.server.pubsub.subscribe(c.client, c.arg(i), kind)
            writeFrame(&c, verb(kind, subscribe: true), c.arg(i), count(c, kind))
        }
    }

    static func unsubscribe(_ c: inout CommandContext, _ kind: PubSubRegistry.Kind) {
        var names = Array(c.args.dropFirst())
        if names.isEmpty {
            switch kind {
            case .channel: names = c.client.subscriptions.channels
            case .pattern: names = c.client.subscriptions.patterns
            case .shard: names = c.client.subscriptions.shardChannels
            }
            if names.isEmpty { return writeFrame(&c, verb(kind, subscribe: false), nil, count(c, kind)) }
        }
        for name in names {
            _ = c.server.pubsub.unsubscribe(c.client, name, kind)
            writeFrame(&c, verb(kind, subscribe: false), name, count(c, kind))
        }
    }

    static func publish(_ c: inout CommandContext, shard: Bool) {
        c.out.writeIntegerReply(c.server.pubsub.publish(c.arg(1), c.arg(2), shard: shard, sessions: c.server.sessions))
    }

    static func channels(_ c: inout CommandContext, shard: Bool) throws(CommandError) {
        if c.args.count > 3 {
            throw c.subcommandSyntaxError
        }
        var names = c.server.pubsub.activeChannels(shard: shard)
        if c.args.count == 3 {
            let pattern = c.bytes(2)
            names = names.filter { globMatch(pattern, Array($0.readableBytesView), noCase: false) }
        }
        c.out.writeArrayHeader(names.count)
        for n in names { c.out.writeBulk(n) }
    }

    static func numsub(_ c: inout CommandContext, shard: Bool) {
        c.out.writeArrayHeader((c.args.count - 2) * 2)
        for i in 2..<max(2, c.args.count) {
            c.out.writeBulk(c.arg(i))
            c.out.writeIntegerReply(c.server.pubsub.subscriberCount(c.arg(i), shard: shard))
        }
    }
}
