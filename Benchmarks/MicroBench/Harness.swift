/// One benchmark case: a name and an operation that returns whether it produced the expected
/// outcome (a success for valid credentials, the expected failure for a wrong secret).
/// The result is checked on every call, so the optimizer cannot drop the work.
struct BenchCase {
    /// Stable snake_case name (the script and README tables key on it).
    let name: String
    /// What one operation is, for the report.
    let summary: String
    let operation: () -> Bool
}

/// The figures of one case.
struct Measurement {
    let name: String
    let summary: String
    /// Operations timed (warm-up excluded).
    let iterations: Int
    /// Wall-clock seconds of the timed part.
    let seconds: Double

    var operationsPerSecond: Double { Double(iterations) / seconds }
    var nanosecondsPerOperation: Double { seconds * 1e9 / Double(iterations) }
}

/// A case's operation returned the wrong outcome: the setup is broken, so no figure is valid.
struct BenchFailure: Error, CustomStringConvertible {
    let name: String
    var description: String { "\(name): the operation did not produce the expected outcome" }
}

/// Runs operations in growing batches until a time budget is spent. Single-threaded;
/// wall-clock time from `ContinuousClock`.
struct Harness {
    /// Timed seconds per case.
    let seconds: Double
    /// Untimed seconds per case before the timed part (caches, branch predictors, lazy setup).
    var warmUpSeconds: Double { min(0.25, seconds / 4) }

    /// Warms `benchCase` up, then times it for `seconds`.
    /// - Throws: `BenchFailure` when an operation returns `false`.
    func run(_ benchCase: BenchCase) throws(BenchFailure) -> Measurement {
        _ = try loop(benchCase, for: warmUpSeconds)
        let (iterations, elapsed) = try loop(benchCase, for: seconds)
        return Measurement(name: benchCase.name, summary: benchCase.summary, iterations: iterations, seconds: elapsed)
    }

    /// Calls the operation in batches (doubling while a batch takes under 5 ms, so the clock
    /// is read rarely) until `budget` seconds have passed. Always runs at least one batch.
    private func loop(_ benchCase: BenchCase, for budget: Double) throws(BenchFailure) -> (Int, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        var batch = 1
        var iterations = 0
        while true {
            let batchStart = clock.now
            for _ in 0..<batch where !benchCase.operation() { throw BenchFailure(name: benchCase.name) }
            iterations += batch
            let now = clock.now
            if Self.seconds(now - start) >= budget { return (iterations, Self.seconds(now - start)) }
            if Self.seconds(now - batchStart) < 0.005 { batch *= 2 }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
