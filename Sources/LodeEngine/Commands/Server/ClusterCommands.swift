import LodeCommandSpec
import LodeRESP

/// CLUSTER on a server without cluster mode: every subcommand answers what Redis 7.0
/// answers when `cluster-enabled` is no (clusterCommand's first check), so clients
/// that probe for a cluster get Redis's answer, and COMMAND lists CLUSTER as Redis does.
enum ClusterCommands {
    static let disabled = CommandError("ERR This instance has cluster support disabled")

    static let handlers: [String: CommandHandler] = {
        let refuse: CommandHandler = { (_: inout CommandContext) throws(CommandError) in throw disabled }
        let cluster = RedisCommands.all.first { $0.name == "cluster" }
        var bound: [String: CommandHandler] = [:]
        for sub in cluster?.subcommands ?? [] { bound["cluster|" + sub.name] = refuse }
        return bound
    }()
}
