"""Writing files so that nothing is ever half-written or lost.

Every output of spikeshift goes through here: a single file is written to a temporary sibling
and renamed into place (`atomic_write`); a set of files replaces the old set as one
transaction (`replace_files`): on any error every file is as it was.
"""

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "replace_files", "check_output_folder", "check_output_file"]


def _new_file_mode() -> int:
    """0666 less the umask: what `open` gives a new file (mkstemp's 0600 would hide it)."""
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


def atomic_write(path, write) -> None:
    """Call ``write(tmp)`` on a temporary file beside `path`, then rename it to `path`."""
    path = Path(path)
    tmp = _temporary(path)
    try:
        write(tmp)
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_files(folder, files: dict, remove=()) -> None:
    """Write `files` (relative path -> text) under `folder` and delete the relative paths in
    `remove`, all or nothing: on any error the files written so far are taken back and the
    old ones restored. Nothing else in `folder` is touched."""
    folder = Path(folder)
    staged, backups, placed = [], [], []
    try:
        for rel, text in files.items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = _temporary(target)
            staged.append(tmp)
            tmp.write_text(text)
            os.chmod(tmp, _new_file_mode())
        for rel in [*files, *remove]:
            target = folder / rel
            if target.exists():
                backup = _temporary(target, ".old")
                os.replace(target, backup)
                backups.append((backup, target))
        for tmp, rel in zip(list(staged), files):
            os.replace(tmp, folder / rel)
            staged.remove(tmp)
            placed.append(folder / rel)
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        for backup, target in reversed(backups):
            os.replace(backup, target)
        for tmp in staged:
            tmp.unlink(missing_ok=True)
        raise
    for backup, _ in backups:
        backup.unlink(missing_ok=True)


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
        raise ValueError(f"{what} must name a folder, not {text!r}")
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
        raise ValueError(f"{what} must name a file, not {text!r}")
    path = Path(text)
    if path.is_dir():
        raise ValueError(f"{what} {text!r} is a folder; it must be a file")
    _writable_ancestor(path, what, text)
    return path
