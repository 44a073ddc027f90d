import FuzzSupport

FuzzDriver.run(fuzzLanguageModelVocabulary)
