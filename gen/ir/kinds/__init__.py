"""Layer kinds, one module each."""
