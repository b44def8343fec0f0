"""The generator flow: a planned design to Verilog, memory images, reports and verification."""
