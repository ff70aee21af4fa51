"""Everything that talks to Keras about a model: import TensorFlow quietly, build a model
from a spec, read a spec back from a model, save and load model files safely (the config
allow-list), and the summary checked against Keras.

Imports: ``core``, ``model``."""
