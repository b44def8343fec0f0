"""The rewrites that bring Spiker+'s VHDL through GHDL into Yosys
(examples/benchmark/spikerplus_side_by_side.py), on snippets of its generated code."""

import importlib.util
import re
from pathlib import Path

import pytest

PATH = Path(__file__).parents[1] / "examples" / "benchmark" / "spikerplus_side_by_side.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("spikerplus_side_by_side", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MUX = """\
        case mux_sel is
            when "00" =>
                mux_out <= in0;
            when "01" | "10" =>
                mux_out <= in1;
            when others =>
                mux_out <= in3;
        end case;
"""

FSM = """\
        case present_state is
            when reset =>
                next_state <= idle;
            when others =>
                next_state <= reset;
        end case;
"""


def test_explicit_others_names_the_values_others_stood_for(bench):
    text = bench.explicit_others(MUX)
    assert re.search(r'when "11" =>\s+mux_out <= in3;\s+when others =>\s+null;\s+end case;',
                     text), text
    assert text.count("when others") == 1


def test_explicit_others_leaves_a_case_over_an_enumeration_alone(bench):
    assert bench.explicit_others(FSM) == FSM


def test_default_to_x_adds_a_default_only_where_there_is_none(bench):
    verilog = ("  always @*\n    case (sel)\n      2'b01: q <= a;\n      2'b10: q <= b;\n"
               "    endcase\n  always @*\n    case (s)\n      1'b1: r <= a;\n"
               "      default: r <= b;\n    endcase\n")
    text = bench.default_to_x(verilog)
    assert "2'b10: q <= b;\n      default: q <= 'bx;\n    endcase" in text
    assert text.count("default") == 2


def test_split_long_literals_keeps_the_bits_in_order(bench):
    bits = "1" + "0" * 2500 + "1"
    text = bench.split_long_literals(f"x = {len(bits)}'b{bits}; y = 4'b1010;", chunk=1000)
    pieces = re.findall(r"(\d+)'b([01]+)", text)
    assert [int(w) for w, _ in pieces] == [502, 1000, 1000, 4]
    assert "".join(b for _, b in pieces[:3]) == bits
    assert text.startswith("x = {502'b1") and text.endswith("; y = 4'b1010;")


def test_dedupe_wires_keeps_one_declaration_and_breaks_the_copy_loop(bench):
    verilog = ("module network\n  (input clk);\n  wire layer_0_ready;\n  wire n4_o;\n"
               "  wire layer_0_n15;\n  wire layer_0_ready;\n"
               "  assign layer_0_ready = layer_0_n15; // (signal)\n"
               "  assign n4_o = clk & layer_0_ready;\n"
               "  assign layer_0_n15 = layer_0_ready; // (signal)\n"
               "  layer l (.ready(layer_0_ready));\nendmodule\n")
    text = bench.dedupe_wires(verilog)
    assert text.count("wire layer_0_ready;") == 1
    assert "assign layer_0_ready =" not in text
    assert "assign layer_0_n15 = layer_0_ready;" in text and ".ready(layer_0_ready)" in text
