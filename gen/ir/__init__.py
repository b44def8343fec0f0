"""The intermediate representation: formats, neurons, weights, layer kinds, the network, its
planned design, the description codec and the link protocol. Imports nothing else of
spikeshift; every other part reads these objects."""
