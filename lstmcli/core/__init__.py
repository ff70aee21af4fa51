"""The floor every other layer stands on: error types and exit codes, atomic file writes,
where lstmcli keeps its files, BLAS thread control and plain classification metrics.

No TensorFlow, no Rich, nothing from another lstmcli layer."""
