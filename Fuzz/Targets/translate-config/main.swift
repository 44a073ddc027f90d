import FuzzSupport

FuzzDriver.run(fuzzTranslateConfig)
