#ifndef GATEWAY_FUZZ_DRIVER_H
#define GATEWAY_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer on the harness's LLVMFuzzerTestOneInput (see driver.c).
int gateway_fuzz_main(int argc, char **argv);
#endif
