"""``python -m derive``: the command line, as ``derive``."""

from derive.cli import main

raise SystemExit(main())
