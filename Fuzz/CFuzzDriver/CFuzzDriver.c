// Only the declaration in include/CFuzzDriver.h: libFuzzer itself comes from -sanitize=fuzzer.
#include "CFuzzDriver.h"
