// The `gateway` executable: argument parsing and wiring only (SPEC §2). Everything it runs is
// in the libraries, callable from tests.
import Glibc
import GatewayCrypto

CryptoLibrary.keepStateUntilExit()
let arguments = Array(CommandLine.arguments.dropFirst())
exit(CommandLineInterface.run(arguments))
