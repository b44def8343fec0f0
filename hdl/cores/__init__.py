"""Layer cores, one module per layer kind."""
