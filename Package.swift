// swift-tools-version:6.1
// The gateway has no package dependencies: only the toolchain, OpenSSL and SQLite.
import PackageDescription

/// The request path's loop-confined classes are checked for exclusive access statically;
/// the dynamic check (a runtime call on every class-property access) is kept in debug builds
/// and tests, and left out of release builds of the hot-path modules.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

/// Upcoming features every Swift target opts into (see STYLE.md §2).
let strictness: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "gateway",
    products: [
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "gateway-microbench", targets: ["gateway-microbench"]),
    ],
    targets: [
        // C libraries and shims.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "CGatewayLinux", cSettings: [.define("_GNU_SOURCE")]),

        // The pipeline, bottom-up: support -> system -> crypto/tls/store -> http -> core -> server.
        .target(name: "GatewaySupport", swiftSettings: strictness + hotPath),
        .target(name: "GatewaySystem", dependencies: ["CGatewayLinux", "GatewaySupport"], swiftSettings: strictness),
        .target(name: "GatewayCrypto", dependencies: ["COpenSSL", "GatewaySupport"], swiftSettings: strictness),
        .target(name: "GatewayTLS", dependencies: ["COpenSSL", "GatewaySupport"], swiftSettings: strictness),
        .target(name: "GatewayStore", dependencies: ["CSQLite", "GatewaySupport", "GatewayCrypto", "GatewayCore"], swiftSettings: strictness),
        .target(name: "GatewayHTTP", dependencies: ["GatewaySupport"], swiftSettings: strictness + hotPath),
        .target(name: "GatewayCore", dependencies: ["GatewayHTTP", "GatewaySupport", "GatewayCrypto", "GatewayTLS"], swiftSettings: strictness + hotPath),
        .target(
            name: "GatewayServer",
            dependencies: ["GatewayCore", "GatewayHTTP", "GatewaySystem", "GatewaySupport", "GatewayCrypto", "GatewayStore", "GatewayTLS"],
            swiftSettings: strictness + hotPath),
        .executableTarget(name: "gateway", dependencies: ["GatewayServer", "GatewayCore", "GatewaySupport", "GatewaySystem", "GatewayCrypto", "GatewayStore"], swiftSettings: strictness),

        // Micro-benchmarks of the authentication primitives (Benchmarks/micro.sh); no dependencies
        // beyond the package's own libraries.
        .executableTarget(
            name: "gateway-microbench", dependencies: ["GatewayCore", "GatewayCrypto", "GatewayStore", "GatewaySupport"],
            path: "Benchmarks/MicroBench", swiftSettings: strictness),

        .testTarget(name: "GatewayHTTPTests", dependencies: ["GatewayHTTP"], swiftSettings: strictness),
        .testTarget(name: "GatewayCoreTests", dependencies: ["GatewayCore", "GatewayHTTP", "GatewayCrypto", "GatewaySupport"], swiftSettings: strictness),
        .testTarget(name: "GatewayCryptoTests", dependencies: ["GatewayCrypto"], swiftSettings: strictness),
        .testTarget(name: "GatewayStoreTests", dependencies: ["GatewayStore", "GatewayCore", "GatewayCrypto"], swiftSettings: strictness),
        .testTarget(
            name: "GatewayServerTests",
            dependencies: ["GatewayServer", "GatewayCore", "GatewayHTTP", "GatewayStore", "GatewaySupport", "GatewaySystem"],
            swiftSettings: strictness),
    ]
)

// Fuzzing (scripts/fuzz.sh): with GATEWAY_FUZZ=1, one more executable, `gateway-fuzz`, whose
// libFuzzer entry points drive the parsers. It exists only then, because it links only with
// -sanitize=fuzzer (libFuzzer supplies `main`); the script builds it into .build-fuzz.
if Context.environment["GATEWAY_FUZZ"] == "1" {
    package.targets.append(.target(name: "CGatewayFuzzDriver", path: "Tests/Fuzz/Driver"))
    package.targets.append(.executableTarget(
        name: "gateway-fuzz", dependencies: ["CGatewayFuzzDriver", "GatewayCore", "GatewayHTTP", "GatewayCrypto", "GatewaySupport"],
        path: "Tests/Fuzz/Harness", swiftSettings: strictness + [.unsafeFlags(["-parse-as-library"])]))
    package.products.append(.executable(name: "gateway-fuzz", targets: ["gateway-fuzz"]))
}
