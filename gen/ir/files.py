"""Writing files so that nothing is ever half-written or lost.

Every output of spikeshift goes through here: a single file is written to a temporary sibling
and renamed into place (`atomic_write`); a set of files replaces the old set as one
transaction (`replace_files`): on any error every file is as it was.
"""

import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "replace_files", "check_output_folder", "check_output_file",
           "load_array"]


def _new_file_mode() -> int:
    """0666 less the umask: what `open` gives a new file (mkstemp's 0600 would hide it). Read
    from /proc where it can be (setting the umask to read it briefly affects every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _temporary(path: Path, suffix: str = "") -> Path:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    except OSError as error:  # named after the file wanted, not the temporary one
        raise OSError(error.errno, f"cannot write {str(path)!r}: {error.strerror}") from None
    os.close(fd)
    return Path(tmp)


def _target(path: Path) -> Path:
    """Where writing `path` really goes: through a symbolic link to the file it names."""
    return path.resolve() if path.is_symlink() else path


def _write(tmp: Path, content) -> None:
    if isinstance(content, bytes):
        tmp.write_bytes(content)
    else:
        tmp.write_text(content)


def atomic_write(path, write) -> None:
    """Call ``write(tmp)`` on a temporary file beside `path`, then rename it to `path`."""
    path = _target(Path(path))
    tmp = _temporary(path)
    try:
        write(tmp)
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_files(folder, files: dict, remove=()) -> None:
    """Write `files` (relative path -> text or bytes) under `folder`, creating it, and delete
    the relative paths in `remove`, all or nothing: on any error the files written so far are
    taken back, the old ones restored and the folders made removed. Nothing else in `folder`
    is touched."""
    folder = Path(folder)
    targets = {rel: _target(folder / rel) for rel in files}
    for rel, target in targets.items():
        if target.is_dir() or (target.exists() and not target.is_file()):
            raise ValueError(f"{str(folder / rel)!r} is in the way: it is a folder or a "
                             f"special file, where spikeshift writes a file")
    made, staged, backups, placed = [], [], [], []
    mode = _new_file_mode()
    try:
        for parent in sorted({t.parent for t in targets.values()}, key=lambda p: len(p.parts)):
            missing = [p for p in (parent, *parent.parents) if not p.exists()]
            for p in reversed(missing):
                p.mkdir()
                made.append(p)
        for rel, target in targets.items():
            tmp = _temporary(target)
            staged.append((tmp, target))
            _write(tmp, files[rel])
            os.chmod(tmp, mode)
        for target in [*targets.values(), *(folder / rel for rel in remove)]:
            if target.is_file():
                backup = _temporary(target, ".old")
                try:
                    os.replace(target, backup)
                except BaseException:
                    backup.unlink(missing_ok=True)
                    raise
                backups.append((backup, target))
        for tmp, target in list(staged):
            os.replace(tmp, target)
            staged.remove((tmp, target))
            placed.append(target)
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        for backup, target in reversed(backups):
            os.replace(backup, target)
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for p in reversed(made):
            p.rmdir()
        raise
    for backup, _ in backups:
        backup.unlink(missing_ok=True)


def load_array(path, what: str) -> np.ndarray:
    """The .npy array in `path` (never unpickled) holding at least one sample, or a ValueError
    naming `what` (the argument)."""
    text = str(path)
    if not Path(text).is_file():
        raise ValueError(f"{what} {text!r} is not a file")
    try:
        x = np.load(text, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        raise ValueError(f"{what} {text!r} is not a .npy array of numbers (np.save of an "
                         f"integer array)") from None
    if not isinstance(x, np.ndarray):
        x.close()
        raise ValueError(f"{what} {text!r} is an .npz archive; give one .npy array")
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{what} {text!r} holds no samples (shape {x.shape}); at least one "
                         f"is needed")
    return x


def _can_create_in(folder: Path) -> bool:
    """Whether a file can really be made in `folder` (os.access says yes to root even on a
    read-only or virtual file system)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _writable_ancestor(path: Path, what: str, text: str) -> None:
    """The nearest existing ancestor of `path` must be a writable folder."""
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"{what} {text!r}: {str(ancestor)!r} is a file, not a folder")
    if not _can_create_in(ancestor):
        raise ValueError(f"{what} {text!r}: the folder {str(ancestor)!r} is not writable")


def check_output_folder(path, what: str) -> Path:
    """`path` as an output folder that can be written, or a ValueError naming `what` (the
    option or argument); checked before any long work starts."""
    text = str(path) if path is not None else ""
    if not text.strip():
        raise ValueError(f"{what} must name a folder, not {path!r}")
    path = Path(text)
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"{what} {text!r} is a file; it must be a folder")
        if not _can_create_in(path):
            raise ValueError(f"{what} {text!r}: the folder is not writable")
    else:
        _writable_ancestor(path, what, text)
    return path


def check_output_file(path, what: str) -> Path:
    """`path` as an output file that can be written (replaced if it exists), or a ValueError
    naming `what`."""
    text = str(path) if path is not None else ""
    if not text.strip() or text.endswith(os.sep):
        raise ValueError(f"{what} must name a file, not {path!r}")
    path = _target(Path(text))
    if path.is_dir():
        raise ValueError(f"{what} {text!r} is a folder; it must be a file")
    if path.exists() and not path.is_file():
        raise ValueError(f"{what} {text!r} is a device or other special file; spikeshift "
                         f"writes regular files only")
    _writable_ancestor(path, what, text)
    return path
