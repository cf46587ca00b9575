@_exported import VerkShared
@_exported import VerkWorker
