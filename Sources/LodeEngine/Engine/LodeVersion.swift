public enum LodeVersion {
    /// Lode's own version.
    public static let lode = "0.1.0"
    /// The Redis version whose behaviour Lode follows; clients gate features on it.
    public static let redisCompatible = "7.0.15"
}
