"""What a model *is*, as plain Python: the ``ModelSpec``, the table of cell facts (gates,
Keras class, formula, equations), the model rules, the parameter arithmetic and the shape
walk. No TensorFlow, no Rich: ``summary`` and ``shapes`` start fast because of it.

Imports: ``core``."""
