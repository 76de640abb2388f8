"""The symbolic side: named functions, the catalogue, and the derivations SymPy makes from them."""
