/// client-output-buffer-limit: per client class, a hard limit (close at once)
/// and a soft limit that closes a client staying over it for longer than
/// `softSeconds`. Zero disables a limit. Redis's defaults and syntax.
public struct OutputBufferLimits: Sendable, Equatable {
    public struct Limit: Sendable, Equatable {
        public var hard: Int
        public var soft: Int
        public var softSeconds: Int
    }

    public enum ClientClass: Int, CaseIterable, Sendable {
        case normal, replica, pubsub

        /// The name CONFIG GET prints (Redis still says "slave").
        var name: String { ["normal", "slave", "pubsub"][rawValue] }

        init?(name: String) {
            switch name.lowercased() {
            case "normal": self = .normal
            case "slave", "replica": self = .replica
            case "pubsub": self = .pubsub
            default: return nil
            }
        }
    }

    public var limits: [Limit] = [
        Limit(hard: 0, soft: 0, softSeconds: 0),
        Limit(hard: 256 << 20, soft: 64 << 20, softSeconds: 60),
        Limit(hard: 32 << 20, soft: 8 << 20, softSeconds: 60),
    ]

    public init() {}

    public subscript(_ c: ClientClass) -> Limit { limits[c.rawValue] }

    /// CONFIG GET's form: "normal 0 0 0 slave 268435456 67108864 60 pubsub …".
    public var text: String {
        ClientClass.allCases.map { c in "\(c.name) \(self[c].hard) \(self[c].soft) \(self[c].softSeconds)" }
            .joined(separator: " ")
    }

    /// Redis's updateClientOutputBufferLimit: groups of `<class> <hard> <soft>
    /// <seconds>`, all checked before any is applied. Returns an error text.
    mutating func apply(_ words: [String]) -> String? {
        guard words.count % 4 == 0 else { return "Wrong number of arguments in buffer limit configuration." }
        var updated = self
        for i in stride(from: 0, to: words.count, by: 4) {
            guard let c = ClientClass(name: words[i]) else {
                return "Invalid client class specified in buffer limit configuration."
            }
            guard let hard = RedisConfigSpec.memtoull(words[i + 1]).map({ Int(clamping: $0) }),
                  let soft = RedisConfigSpec.memtoull(words[i + 2]).map({ Int(clamping: $0) }),
                  let seconds = Int(words[i + 3]), seconds >= 0 else {
                return "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            }
            updated.limits[c.rawValue] = Limit(hard: hard, soft: soft, softSeconds: seconds)
        }
        self = updated
        return nil
    }
}
