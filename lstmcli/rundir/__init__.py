"""The run folder: the name of every file in it and how a run is opened and checked.

Both ``embed`` (vectors from a run) and ``train`` (writing runs) stand on it.
Imports: ``core``, ``model``, ``backend``, ``data``."""
