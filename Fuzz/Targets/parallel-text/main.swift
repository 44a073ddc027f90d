import FuzzSupport

FuzzDriver.run(fuzzParallelText)
