// swift-tools-version:6.0
import PackageDescription

// The data structures on the request path are confined to one thread; runtime
// exclusivity checks on them profiled at ~5% of a cached GET.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Lode",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lode-server", targets: ["lode-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // LMDB from the system (Debian: liblmdb-dev).
        .systemLibrary(
            name: "CLmdb",
            path: "CLmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // RESP2/RESP3 codec: depends on NIOCore only, knows nothing of commands.
        .target(
            name: "LodeRESP",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // Storage: safe LMDB wrapper, on-disk encoding, hot cache, expiry.
        .target(
            name: "LodeStore",
            dependencies: ["CLmdb", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: hotPath
        ),
        // Commands, configuration, networking, lifecycle.
        .target(
            name: "LodeServer",
            dependencies: [
                "LodeRESP", "LodeStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPath
        ),
        .executableTarget(
            name: "lode-server",
            dependencies: ["LodeServer"]
        ),
        // Replays synthetic traces through the real HotCache (tools/bench-cache).
        .executableTarget(
            name: "lode-cachesim",
            dependencies: ["LodeStore", .product(name: "NIOCore", package: "swift-nio")],
            path: "tools/cachesim"
        ),
        .testTarget(
            name: "LodeTests",
            dependencies: [
                "LodeRESP", "LodeStore", "LodeServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ],
    // Swift 5 mode: the server's state is confined to one event loop by design,
    // which Swift 6's static checking cannot express without runtime locks.
    swiftLanguageModes: [.v5]
)
