"""Training and using trained models: the configuration, batch plans, the Keras callback,
checkpoints and resume, the end-to-end run, evaluation and prediction.

Imports: every layer below, ``embed`` included (pretrained embeddings)."""
