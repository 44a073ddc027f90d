import FuzzSupport

FuzzDriver.run(fuzzLanguageModelState)
