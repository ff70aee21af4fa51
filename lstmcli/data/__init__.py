"""Labelled text in, token ids out: the ``DataRequest``, archives and downloads, the IMDB and
user-data readers, the text pipeline, length batching and the vectorised-data cache.

Imports: ``core``, ``model``, ``backend``."""
