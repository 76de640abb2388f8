"""Build time: the derivations made stable (``rewrite``) and printed as kernels (``generate``).

``python -m derive.compile`` regenerates ``derive/kernels/_generated.py``.
"""
