"""Front ends: NIR graphs, PyTorch QCFS models and float descriptions to the IR."""
