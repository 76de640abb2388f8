"""Build time: the derivations made stable and printed as kernels.

``nodes`` (operations kept whole), ``rewrite`` (the stability rules, each with its phase),
``expressions`` (each kernel as one stabilised expression), ``printer_numpy`` (in-place
NumPy calls), ``printer_xp`` (array API), ``generate`` (the NumPy module).
``python -m derive.compile`` regenerates ``derive/kernels/_generated.py`` and ``_generated_xp.py``.
"""
