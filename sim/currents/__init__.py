"""Golden currents, one module per layer kind."""
