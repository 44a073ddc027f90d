import FuzzSupport

FuzzDriver.run(fuzzWordVectors)
