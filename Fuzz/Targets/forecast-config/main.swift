import FuzzSupport

FuzzDriver.run(fuzzForecastConfig)
