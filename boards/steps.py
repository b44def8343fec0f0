"""The names of the board flow's steps, in order.

A module of its own with no imports, so the Makefile can read it with any Python before the
project's environment exists.
"""

STEPS = ("verilog", "sim", "estimate", "bitstream")
