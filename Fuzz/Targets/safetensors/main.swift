import FuzzSupport

FuzzDriver.run(fuzzSafetensors)
