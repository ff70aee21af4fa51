"""Looking inside a trained model: the NumPy recomputation of every gate and state, what one
text does to them, and which units separate the classes.

Imports: every layer below."""
