"""The model: THE place to change the estimator and the features.

- ``estimators.py``: the classifiers a project can choose, one function each.
- ``pipeline.py``: TF-IDF features plus the chosen classifier, and accessors
  (vocabulary, tokenizer) so nothing else reaches into the pipeline's steps.
- ``scoring.py``: applying a fitted pipeline to a batch, chunk by chunk, on every core.
- ``evaluation.py``: what a fitted pipeline gets right and wrong on labeled rows; no I/O.
"""
