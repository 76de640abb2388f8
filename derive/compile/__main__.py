"""``python -m derive.compile``: write the generated kernel modules.

``derive/kernels/_generated.py`` (NumPy, in place) and ``derive/kernels/_generated_xp.py``
(functional, any array API namespace), from the same stabilised derivations, and
``derive/kernels/_generated_second.py`` (the Hessians: ``derive.compile.second_order`` and, with parameters,
``derive.compile.second_parametric``).
"""

from derive.compile.generate import main as numpy_main
from derive.compile.printer_xp import main as xp_main
from derive.compile.second_parametric import main as second_main

raise SystemExit(numpy_main() or xp_main() or second_main())
