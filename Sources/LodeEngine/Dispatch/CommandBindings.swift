/// Every handler Lode has, by Redis command name: the one hand-written table
/// that says which of Redis's commands Lode implements. Each family keeps its
/// own part beside its code; metadata comes from LodeCommandSpec.
enum CommandBindings {
    static let families: [[String: CommandHandler]] = [
        StringCommands.handlers, KeyCommands.handlers, HashCommands.handlers, SetCommands.handlers,
        ListCommands.handlers, ZSetCommands.handlers, SortCommands.handlers, GeoCommands.handlers, BlockingCommands.handlers,
        ConnectionCommands.handlers, ClientAdminCommands.handlers, MonitorCommands.handlers, ServerCommands.handlers,
        ConfigCommands.handlers, SlowlogLatencyCommands.handlers, MemoryCommands.handlers, DebugCommands.handlers,
        LolwutCommands.handlers, CommandCommands.handlers, IntrospectionCommands.handlers,
        TransactionCommands.handlers, PubSubCommands.handlers, TrackingCommands.handlers,
        EvalCommands.handlers, FunctionCommands.handlers,
        StreamCommands.handlers, StreamGroupCommands.handlers, StreamInfoCommands.handlers,
        HyperLogLogCommands.handlers, DumpCommands.handlers, PersistenceCommands.handlers,
        SyncCommands.handlers, ClusterCommands.handlers,
    ]

    static let all: [String: CommandHandler] = families.reduce(into: [:]) { merged, family in
        merged.merge(family) { _, _ in preconditionFailure("a command is bound twice") }
    }
}
