// The libFuzzer entry point of `gateway-fuzz` (built by scripts/fuzz.sh with
// -sanitize=fuzzer,address). One binary holds every target; GATEWAY_FUZZ_TARGET picks one.
private import Glibc

/// The target chosen at start-up (`LLVMFuzzerInitialize`), read-only afterwards.
nonisolated(unsafe) private var selected: FuzzTarget? = nil

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> Int32 {
    guard let name = getenv("GATEWAY_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")
        report("set GATEWAY_FUZZ_TARGET to one of: \(names)")
        exit(2)
    }
    selected = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    selected?.run(input)
    return 0
}

/// Stops the run with a finding: libFuzzer saves the input that got here.
func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        report("fuzz invariant broken: \(message())")
        abort()
    }
}

private func report(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
