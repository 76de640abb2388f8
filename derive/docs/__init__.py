"""Documents: LaTeX of a pairing (``latex``), the full report (``report``) and its figures."""
