"""Outputs never lose a user's files, never mix two designs and keep the umask's permissions."""

import os
import stat

import numpy as np
import pytest

from spikeshift.gen.flow.generator import generate
from spikeshift.gen.ir import files
from spikeshift.gen.ir.files import check_output_file, check_output_folder, replace_files
from spikeshift.gen.ir.synthetic import dense_pot_network


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def two_nets():
    rng = np.random.default_rng(3)
    return dense_pot_network(rng, (6, 5, 4, 3)), dense_pot_network(rng, (6, 5))


def test_generate_keeps_other_files_and_drops_the_old_designs_images(two_nets, tmp_path):
    three, one = two_nets
    (tmp_path / "mem").mkdir()
    (tmp_path / "mem" / "notes.txt").write_text("mine")
    (tmp_path / "mem" / "layer7_notes.hex").write_text("mine, named like an image")
    (tmp_path / "keep.v").write_text("mine too")
    generate(three, tmp_path)
    assert sorted(p.name for p in (tmp_path / "mem").iterdir()) == [
        "layer0_weights.hex", "layer1_weights.hex", "layer2_weights.hex", "layer7_notes.hex",
        "notes.txt"]
    generate(one, tmp_path)
    assert sorted(p.name for p in (tmp_path / "mem").iterdir()) == [
        "layer0_weights.hex", "layer7_notes.hex", "notes.txt"]
    assert (tmp_path / "mem" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "keep.v").read_text() == "mine too"


# generate(one) over generate(three) renames: 6 old files aside (4 it rewrites, 2 stale
# images), then 4 new ones in; a failure at any of them must leave the old design whole.
@pytest.mark.parametrize("failing_move", range(1, 11))
def test_a_failure_while_replacing_leaves_the_old_design_whole(two_nets, tmp_path, monkeypatch,
                                                               failing_move):
    three, one = two_nets
    generate(three, tmp_path / "out")
    before = _tree(tmp_path)
    real, moves = os.replace, []

    def failing_replace(src, dst):
        moves.append(dst)
        if len(moves) == failing_move:
            raise OSError(28, "No space left on device")
        real(src, dst)
    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space"):
        generate(one, tmp_path / "out")
    monkeypatch.undo()
    assert _tree(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*")]


def test_a_failed_first_generate_leaves_no_folder_behind(two_nets, tmp_path, monkeypatch):
    def full(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(files.os, "replace", full)
    with pytest.raises(OSError, match="No space"):
        generate(two_nets[0], tmp_path / "new" / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_where_a_file_goes_is_named_before_anything_moves(two_nets, tmp_path):
    (tmp_path / "report.json").mkdir()
    with pytest.raises(ValueError, match=r"report.json' is in the way: it is a folder"):
        generate(two_nets[0], tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_outputs_through_links_and_special_files(tmp_path):
    (tmp_path / "real.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    files.atomic_write(tmp_path / "link.txt", lambda tmp: tmp.write_text("new"))
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "real.txt").read_text() == "new"
    with pytest.raises(ValueError, match=r"^-o '/dev/null' is a device or other special file"):
        check_output_file("/dev/null", "-o")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ValueError, match=r"is a device or other special file"):
        check_output_file(tmp_path / "fifo", "-o")


def test_replace_files_all_or_nothing_with_the_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        replace_files(tmp_path, {"a.txt": "1", "sub/b.txt": "2"})
    finally:
        os.umask(old)
    assert _tree(tmp_path) == {"a.txt": "1", "sub/b.txt": "2"}
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "sub" / "b.txt").stat().st_mode) == 0o644


def test_saved_descriptions_are_readable_by_others(two_nets, tmp_path):
    old = os.umask(0o002)
    try:
        two_nets[0].save(tmp_path / "net.json", arrays="npz")
    finally:
        os.umask(old)
    for name in ("net.json", "net.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o664


@pytest.mark.parametrize("text", ["", "  "])
def test_an_empty_output_folder_is_refused(text):
    with pytest.raises(ValueError, match=f"^-o must name a folder, not '{text}'$"):
        check_output_folder(text, "-o")


def test_output_locations_that_cannot_be_written_are_refused(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"^-o '.*file' is a file; it must be a folder$"):
        check_output_folder(tmp_path / "file", "-o")
    with pytest.raises(ValueError, match=r"^-o '.*file/sub': '.*file' is a file, not a folder$"):
        check_output_folder(tmp_path / "file" / "sub", "-o")
    with pytest.raises(ValueError, match=r"^-o '.*' is a folder; it must be a file$"):
        check_output_file(tmp_path, "-o")
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access  # as root every folder is writable: the permission answer is simulated
    monkeypatch.setattr(files.os, "access", lambda p, mode: real(p, mode) and
                        os.path.abspath(p) != str(locked))
    with pytest.raises(ValueError, match=r"the folder '.*locked' is not writable$"):
        check_output_file(locked / "out.npz", "-o")
    with pytest.raises(ValueError, match=r"^-o '.*locked/new': the folder '.*locked' is "
                                         r"not writable$"):
        check_output_folder(locked / "new", "-o")
    with pytest.raises(ValueError, match=r"^-o '.*locked': the folder is not writable$"):
        check_output_folder(locked, "-o")
