// gateway-microbench: single-threaded micro-benchmarks of the authentication primitives.
// Build and run in release mode (Benchmarks/micro.sh does both and compares with `openssl speed`):
//   swift build -c release --product gateway-microbench
//   .build/release/gateway-microbench [--seconds S] [--filter TEXT] [--json]
import GatewayCrypto
import GatewaySupport
import Glibc

/// Prints `message` to standard error and exits with `status` (2: usage, 1: failure).
func fail(_ message: String, status: Int32) -> Never {
    LogSink.standardError.write("gateway-microbench: " + message + "\n")
    exit(status)
}

let usage = """
    usage: gateway-microbench [--seconds S] [--filter TEXT] [--json]
      --seconds S    timed seconds per case (default 1; a warm-up of min(0.25, S/4) s precedes it)
      --filter TEXT  run only the cases whose name contains TEXT
      --json         one JSON document instead of text lines
    """

var seconds = 1.0
var filter: String? = nil
var json = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--seconds":
        guard let value = arguments.popFirst().flatMap(Double.init), value > 0, value <= 600 else {
            fail("--seconds takes a number of seconds in (0, 600]", status: 2)
        }
        seconds = value
    case "--filter":
        guard let value = arguments.popFirst() else {
            fail("--filter needs a value", status: 2)
        }
        filter = value
    case "--json":
        json = true
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        fail("unexpected argument \"\(argument)\"\n" + usage, status: 2)
    }
}

let suite: AuthCases
do {
    suite = try AuthCases(now: Int64(WallClock.now()))
} catch {
    fail("setup failed: \(error)", status: 1)
}
let selected = suite.cases.filter { filter.map($0.name.contains) ?? true }
guard !selected.isEmpty else {
    fail("no case matches \"\(filter ?? "")\"", status: 2)
}

let harness = Harness(seconds: seconds)
var results: [Measurement] = []
if !json {
    for note in suite.notes { print("# " + note) }
    print("# \(seconds) s per case after \(harness.warmUpSeconds) s warm-up, one thread, wall clock")
}
for benchCase in selected {
    do {
        let measurement = try harness.run(benchCase)
        results.append(measurement)
        if !json { print(Report.line(measurement)) }
    } catch {
        fail(error.description, status: 1)
    }
}
if json { print(Report.json(results, notes: suite.notes, seconds: seconds)) }
