import subprocess
import sys
import zipfile


def test_wheel_holds_only_the_spikeshift_package(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path),
                    "."], check=True, capture_output=True)
    wheel, = tmp_path.glob("spikeshift-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.startswith("spikeshift-")}
    assert top == {"spikeshift"}
    for sub in ("hdl", "gen", "sim", "boards"):
        assert f"spikeshift/{sub}/__init__.py" in names
    assert "spikeshift/sim/tb_accelerator.py" in names


def test_subpackages_import_as_spikeshift_modules_only():
    code = ("import importlib.util, spikeshift.hdl, spikeshift.gen, spikeshift.sim; "
            "print([importlib.util.find_spec(n) is None for n in ('hdl', 'gen', 'sim', "
            "'boards')])")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd="/").stdout
    assert out.strip() == "[True, True, True, True]"


def test_core_never_imports_the_training_stack(tmp_path):
    code = f"""
import sys, numpy as np, spikeshift
from spikeshift.gen.ir.synthetic import random_network, random_inputs
from spikeshift.gen.ir.design import plan
from spikeshift.gen.flow.verilog import accelerator_verilog
rng = np.random.default_rng(0)
net = random_network(rng)
spikeshift.predict(net, random_inputs(rng, net, 2))
net.save({str(tmp_path / 'net.json')!r})
accelerator_verilog(plan(net))
print(sorted(m for m in ("torch", "snntorch", "nir", "matplotlib", "mlxtend", "sklearn")
             if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == "[]"
