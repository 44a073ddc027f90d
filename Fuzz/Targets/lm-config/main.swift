import FuzzSupport

FuzzDriver.run(fuzzLanguageModelConfig)
