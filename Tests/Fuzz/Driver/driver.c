// The fuzz binary's entry point. SwiftPM links executables on Linux with `main` renamed to
// `<product>_main` (so tests can import them); here that function hands control to libFuzzer's
// driver, which then calls LLVMFuzzerInitialize and LLVMFuzzerTestOneInput (Harness/).
#include "fuzz_driver.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int gateway_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
