import FuzzSupport

FuzzDriver.run(fuzzClassifyConfig)
