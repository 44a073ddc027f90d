// The umbrella module: `import Recurrent` brings in the whole library. Re-exports only.
@_exported import RecurrentCore
@_exported import RecurrentAutodiff
@_exported import RecurrentLayers
@_exported import RecurrentOptim
@_exported import RecurrentText
@_exported import RecurrentForecasting
@_exported import RecurrentClassics
@_exported import RecurrentFormats
