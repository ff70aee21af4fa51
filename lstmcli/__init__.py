"""lstmcli: a command-line lab for recurrent neural networks (Keras)."""

__version__ = "0.1.0"
