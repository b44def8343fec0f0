"""Design-space exploration (`spikeshift explore`): knobs, measurements, search, results."""
