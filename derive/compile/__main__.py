"""``python -m derive.compile``: write both generated kernel modules.

``derive/kernels/_generated.py`` (NumPy, in place) and ``derive/kernels/_generated_xp.py``
(functional, any array API namespace), from the same stabilised derivations.
"""

from derive.compile.generate import main as numpy_main
from derive.compile.printer_xp import main as xp_main

raise SystemExit(numpy_main() or xp_main())
