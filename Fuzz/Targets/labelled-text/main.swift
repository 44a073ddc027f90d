import FuzzSupport

FuzzDriver.run(fuzzLabelledText)
