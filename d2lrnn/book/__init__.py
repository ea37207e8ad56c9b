"""The book's own names, per API generation and framework tab, all running on the core.

- ``v1.py`` (d2l 1.0.3, framework-neutral) and ``v1_torch.py`` / ``v1_mxnet.py`` /
  ``v1_tensorflow.py`` (one tab each): re-exported by ``d2lrnn.torch`` (and ``mxnet``,
  ``tensorflow``) and ``d2lrnn.v1.*``. A JAX tab would be one more ``v1_jax.py``.
- ``common.py`` and ``torch.py`` / ``mxnet.py`` / ``tensorflow.py``: d2l 0.x and the 1.0 draft,
  re-exported by ``d2lrnn.v0.*`` and ``d2lrnn.draft.*``; ``gluonbook.py`` for ``d2lrnn.gluonbook``.
- ``v0_aliases.py``: the tensor aliases (``d2l.reshape``, ...) per framework.
- ``cells.py``: runs the book's cells as typed (tests and ``scripts/book_matrix.py``).
"""
