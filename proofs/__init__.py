"""proofs: certificates that SymPy checks, for every bound and identity of derive."""
