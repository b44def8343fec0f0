import subprocess
import sys
import zipfile

import pytest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    "."], check=True, capture_output=True)
    wheel, = out.glob("spikeshift-*.whl")
    return wheel


def test_wheel_holds_only_the_spikeshift_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.startswith("spikeshift-")}
    assert top == {"spikeshift"}
    for sub in ("hdl", "gen", "sim", "boards"):
        assert f"spikeshift/{sub}/__init__.py" in names
    assert "spikeshift/sim/tb_accelerator.py" in names
    assert "spikeshift/boards/deploy/spikeshift_pynq.py" in names     # the deploy template


def test_deploy_folder_is_written_from_the_unpacked_wheel(wheel, tmp_path):
    """The PYNQ driver template is package data, found without the source tree."""
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    code = f"""
import numpy as np, spikeshift
from pathlib import Path
from spikeshift.boards.vivado_flow import _write_deploy
from spikeshift.gen.ir.synthetic import random_network
_write_deploy(random_network(np.random.default_rng(0)), Path({str(tmp_path / 'deploy')!r}))
print(Path(spikeshift.__file__).parent)
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd="/", env={"PYTHONPATH": str(tmp_path / "site")}).stdout
    assert out.strip() == str(tmp_path / "site" / "spikeshift")
    template = zipfile.ZipFile(wheel).read("spikeshift/boards/deploy/spikeshift_pynq.py")
    assert (tmp_path / "deploy" / "spikeshift_pynq.py").read_bytes() == template


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
