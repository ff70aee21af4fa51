"""Word vectors: skip-gram pretraining, reading ``.vec``/GloVe files or a run's embedding,
and aligning them with a vocabulary.

Imports: the layers below ``rundir`` and ``rundir``."""
