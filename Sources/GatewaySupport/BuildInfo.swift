/// The gateway's own version: `gateway version`, the `gateway_build_info` metric.
package enum BuildInfo {
    package static let version = "0.1.0"
}
