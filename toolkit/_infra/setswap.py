"""Outputs as one set: a run's files are built in a hidden folder and switched into place
whole, so that a reader of the output folder never sees half of one run beside half of
another, even when the run is killed (SIGKILL, power cut) at any moment.

Layout inside a folder ``OUT`` for a set named ``NAME`` (consolidate's ``--out DIR`` is the
set: ``OUT`` is its parent and ``NAME`` its name, see :mod:`toolkit.report.outputs`):

- ``OUT/NAME/`` — the current set, what readers open, with :data:`MANIFEST` saying what the
  toolkit wrote in it (relative path and sha256 of each file) and for whom (``identity``);
- ``OUT/.truoc/NAME/`` — the previous set, kept until the next run ("trước": before);
- ``OUT/.tmp-NAME+*`` — a set being built; ``OUT/.xoa-NAME+*`` — the set before the previous
  one, being deleted. Only a killed run leaves either behind; the next run clears them
  (:func:`recover`). In these hidden names the set's name is escaped (:func:`_tag`) so that
  ``+`` never occurs in it: one set's leftovers are never taken for another's.

**Runs at the same time.** Building holds a lock on its staging folder (``flock``, released
by the kernel when the process dies), so a second run never clears a folder that is still
being written; switching and clearing hold a lock on ``OUT`` itself, so two switches into
the same output folder take turns. Where ``flock`` does not exist (Windows) there is no
such lock: two runs into the same folder at once are not supported there.

**The switch.** On Linux (and macOS) the new folder and the current one trade places in
one system call (``renameat2(RENAME_EXCHANGE)``, ``renamex_np(RENAME_SWAP)``), so at every
instant ``OUT/NAME`` is the complete old set or the complete new set; the old one is then
renamed to ``.truoc/NAME``. Where no exchange exists (Windows, some network file systems)
it takes two renames, current → ``.truoc/NAME`` then new → ``NAME``: a kill between them
leaves ``OUT/NAME`` missing (both sets are whole, under ``.truoc`` and ``.tmp-``) until the
next run puts the newest back. Windows also refuses to rename a folder while a file in it is
open (the summary open in Excel): the run then fails with a Vietnamese
:class:`~toolkit._infra.atomic.OutputWriteError` and the current set stays as it was.
Every file is flushed to disk (``fsync``) before the switch, the folders after it.

**The clerk's files are never deleted.** Anything in ``OUT/NAME`` the toolkit did not write
(not in the manifest, or in it but changed since — a summary the clerk edited) is carried
into the new set before the switch: hard-linked (copied where links are not possible), an
edited toolkit file under a ``_giu-lai`` name so that a toolkit name always holds this
run's file (``mail send-feedback`` must never send an old feedback). When an old set is
deleted, only the files its manifest lists with the same sha256, office lock files and
files that have a copy in the current set go; anything else is moved to
``.truoc/NAME_giu-lai-N``. Files of ``OUT`` outside the set folders are never touched.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import glob
import hashlib
import json
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from toolkit._infra.atomic import ensure_dir

if sys.platform != "win32":
    import fcntl

MANIFEST = ".toolkit-ket-qua.json"
PREVIOUS = ".truoc"
KEPT = "_giu-lai"
_BUILDING, _COMPLETE = "building", "complete"
_LOCK_PREFIXES = ("~$", ".~lock.")  # Excel's and LibreOffice's lock files: not the clerk's
_SEP = "+"  # between a set name and the random part of a hidden folder: never in a name
_held: dict[str, int] = {}  # staging folder → the descriptor holding its lock
_NOT_SUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV}


@dataclass(frozen=True)
class Manifest:
    """What one set folder holds: the toolkit's files by relative path → sha256."""

    state: str
    generation: int
    identity: dict[str, str]
    files: dict[str, str]
    carried: dict[str, str] = field(default_factory=dict)  # clerk's file: old path → new


@dataclass(frozen=True)
class Published:
    """Where a published set is, where the previous one went, what was carried over."""

    folder: Path
    previous: Path | None
    carried: dict[str, str]


# --------------------------------------------------------------------------- steps
# Every change of the switch goes through these three, one call per step: a test kills the
# process before each of them in turn.


def _rename(src: Path, dst: Path) -> None:
    os.rename(src, dst)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one system call; False where the system cannot."""
    libc = _libc()
    if libc is None:
        return False
    if sys.platform.startswith("linux"):
        fn = getattr(libc, "renameat2", None)
        if fn is None:
            return False
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                       ctypes.c_uint]
        at_fdcwd, rename_exchange = -100, 2
        rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    else:  # macOS
        fn = getattr(libc, "renamex_np", None)
        if fn is None:
            return False
        fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
        rc = fn(os.fsencode(a), os.fsencode(b), 2)  # RENAME_SWAP
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in _NOT_SUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _prune(folder: Path, keep_in: tuple[Path, ...], leftovers: Path) -> None:
    """Delete an old set folder, keeping what may be the clerk's (see the module text): a
    file goes when the folder's manifest lists it unchanged, when it is an office lock
    file, or when one of the ``keep_in`` sets holds a copy of it."""
    manifest = read_manifest(folder)
    listed = manifest.files if manifest is not None else {}
    copies = _Copies(keep_in)
    for path in sorted(_files(folder), reverse=True):
        rel = path.relative_to(folder).as_posix()
        if rel == MANIFEST:
            continue
        if ((rel in listed and _sha256(path) == listed[rel]) or _is_lock(path)
                or copies.has(path, rel)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    for dirpath, _dirs, _names in sorted(os.walk(folder), reverse=True):
        if Path(dirpath) != folder:
            with contextlib.suppress(OSError):  # not empty: something in it is kept
                Path(dirpath).rmdir()
    rest = [p for p in folder.iterdir() if p.name != MANIFEST] if folder.is_dir() else []
    if not rest:
        (folder / MANIFEST).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()
        return
    ensure_dir(leftovers.parent)
    n = 1
    while (target := leftovers.with_name(f"{leftovers.name}{KEPT}-{n}")).exists():
        n += 1
    os.rename(folder, target)


# --------------------------------------------------------------------------- public


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of a set folder; None when there is none or it cannot be read."""
    try:
        data = json.loads((Path(folder) / MANIFEST).read_bytes().decode("utf-8"))
        return Manifest(state=str(data["state"]), generation=int(data["generation"]),
                        identity={str(k): str(v) for k, v in data["identity"].items()},
                        files={str(k): str(v) for k, v in data["files"].items()},
                        carried={str(k): str(v) for k, v in data.get("carried", {}).items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def start(out: Path, name: str, identity: dict[str, str]) -> Path:
    """Clear what a killed run left for ``name`` and make a fresh, empty staging folder
    beside the set (same file system, so the switch is a rename)."""
    out = ensure_dir(Path(out))
    with _locked(out):
        recover(out, name)
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{_tag(name)}{_SEP}", dir=out))
        fd = _lock(staging, wait=False)
        if fd is not None:
            _held[str(staging)] = fd
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes 0700; an output folder is ordinary
    _write_manifest(staging, Manifest(_BUILDING, 0, dict(identity), {}))
    return staging


def discard(staging: Path) -> None:
    """Remove a staging folder that will not be published (everything in it is ours)."""
    shutil.rmtree(staging, ignore_errors=True)
    _release(staging)


def publish(out: Path, name: str, staging: Path, identity: dict[str, str]) -> Published:
    """Switch ``staging`` into place as ``out/name``; the current set becomes
    ``out/.truoc/name``, the one there before is deleted (:func:`_prune`). On a failure
    before the switch the staging folder is removed and the current set stays."""
    out = Path(out)
    try:
        with _locked(out):
            return _publish(out, name, staging, identity)
    finally:
        _release(staging)


def _publish(out: Path, name: str, staging: Path, identity: dict[str, str]) -> Published:
    current, previous = out / name, out / PREVIOUS / name
    trash: Path | None = None
    old: Manifest | None = None
    try:
        old = read_manifest(current) if current.is_dir() else None
        carried = _carry(current, staging, old)
        theirs = {MANIFEST, *carried.values()}
        files = {rel: _sha256(staging / rel) for rel in
                 (p.relative_to(staging).as_posix() for p in _files(staging))
                 if rel not in theirs}
        generation = (old.generation if old is not None else 0) + 1
        _write_manifest(staging, Manifest(_COMPLETE, generation, dict(identity), files,
                                          carried))
        _fsync_tree(staging)
        if current.exists():
            ensure_dir(previous.parent)
        if previous.exists():
            trash = out / f".xoa-{_tag(name)}{_SEP}{secrets.token_hex(4)}"
            _rename(previous, trash)
        if not current.exists():
            _rename(staging, current)
        elif _exchange(staging, current):
            staging, old_set = current, staging  # names now: staging holds the old set
            with contextlib.suppress(OSError):  # the new set is in; recover() retries this
                _rename(old_set, previous)
        else:
            _rename(current, previous)
            try:
                _rename(staging, current)
            except OSError:
                with contextlib.suppress(OSError):
                    _rename(previous, current)
                raise
    except BaseException:
        if staging != current:
            discard(staging)
        if trash is not None and not previous.exists():
            with contextlib.suppress(OSError):
                _rename(trash, previous)
        raise
    _fsync_dir(out)
    if previous.parent.is_dir():
        _fsync_dir(previous.parent)
    if trash is not None:
        _prune(trash, keep_in=(current, previous), leftovers=previous)
    # a folder that held only the clerk's files had no results to keep: say none were kept
    return Published(current, previous if old is not None and previous.is_dir() else None,
                     carried)


def recover(out: Path, name: str) -> None:
    """Finish or undo what a killed run left for the set ``name``: a staging folder still
    being built is removed (it holds only the toolkit's files and copies of the current
    set's); a complete one becomes the current set when that is missing (killed between the
    two renames of the fallback switch), the previous set when it is older than the current
    one and no previous set is kept, and is deleted otherwise; a half-deleted old set is
    deleted. A staging folder another run is still writing is left alone."""
    out = Path(out)
    current, previous = out / name, out / PREVIOUS / name
    for stale in sorted(out.glob(f".tmp-{glob.escape(_tag(name))}{_SEP}*")):
        if not stale.is_dir() or _busy(stale):
            continue
        manifest = read_manifest(stale)
        if manifest is not None and manifest.state == _BUILDING:
            discard(stale)
            continue
        if not current.exists() and manifest is not None:
            _rename(stale, current)
            continue
        now = read_manifest(current)
        older = manifest is not None and (now is None or manifest.generation < now.generation)
        if older and not previous.exists():
            ensure_dir(previous.parent)
            _rename(stale, previous)
        else:
            _prune(stale, keep_in=(current, previous), leftovers=previous)
    for trash in sorted(out.glob(f".xoa-{glob.escape(_tag(name))}{_SEP}*")):
        _prune(trash, keep_in=(current, previous), leftovers=previous)


# --------------------------------------------------------------------------- helpers


def _tag(name: str) -> str:
    """``name`` with ``%`` and ``+`` escaped, for the hidden folders' names."""
    return name.replace("%", "%25").replace(_SEP, "%2B")


def _lock(path: Path, *, wait: bool) -> int | None:
    """An exclusive ``flock`` on ``path`` (a folder), as an open descriptor; None where
    there is no ``flock``. Raises :class:`BlockingIOError` when ``wait`` is False and
    another process holds it."""
    if sys.platform == "win32":
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    fd = _lock(folder, wait=True)
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _release(staging: Path) -> None:
    fd = _held.pop(str(staging), None)
    if fd is not None:
        os.close(fd)


def _busy(folder: Path) -> bool:
    """Is another process still writing this staging folder?"""
    try:
        fd = _lock(folder, wait=False)
    except BlockingIOError:
        return True
    except OSError:
        return False
    if fd is not None:
        os.close(fd)
    return False


def _libc() -> Any:
    if not (sys.platform.startswith("linux") or sys.platform == "darwin"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


def _files(folder: Path) -> list[Path]:
    """Every file (and symlink) under ``folder``, never following a link."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        base = Path(dirpath)
        found += [base / n for n in filenames]
        found += [base / d for d in dirnames if (base / d).is_symlink()]
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


def _is_lock(path: Path) -> bool:
    return path.name.startswith(_LOCK_PREFIXES)


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    data = {"state": manifest.state, "generation": manifest.generation,
            "identity": manifest.identity, "files": dict(sorted(manifest.files.items())),
            "carried": dict(sorted(manifest.carried.items()))}
    (folder / MANIFEST).write_bytes(
        json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8") + b"\n")


def _kept_name(rel: str, taken: set[str]) -> str:
    """``a/b_giu-lai.xlsx``, then ``_giu-lai-2``…: a free name for a carried file."""
    path = PurePosixPath(rel)
    stem = path.stem[:200]
    n = 1
    while True:
        tag = KEPT if n == 1 else f"{KEPT}-{n}"
        candidate = str(path.with_name(f"{stem}{tag}{path.suffix[:20]}"))
        if candidate.casefold() not in taken:
            return candidate
        n += 1


def _carry(current: Path, staging: Path, manifest: Manifest | None) -> dict[str, str]:
    """Link (or copy) into ``staging`` every file of ``current`` the toolkit did not write
    or that changed since; returns old relative path → new."""
    if not current.is_dir():
        return {}
    listed = manifest.files if manifest is not None else {}
    taken = {p.relative_to(staging).as_posix().casefold() for p in _files(staging)}
    carried: dict[str, str] = {}
    for path in sorted(_files(current)):
        rel = path.relative_to(current).as_posix()
        if rel == MANIFEST or _is_lock(path):
            continue
        if rel in listed and _sha256(path) == listed[rel]:
            continue  # the toolkit's file, unchanged: the new run has its own
        new = _kept_name(rel, taken) if rel in listed or rel.casefold() in taken else rel
        taken.add(new.casefold())
        target = staging / new
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            os.symlink(os.readlink(path), target)
        else:
            try:
                os.link(path, target)
            except OSError:  # FAT/exFAT stick, another device: a copy
                shutil.copy2(path, target)
        carried[rel] = new
    return carried


class _Copies:
    """Does a kept set hold this file? The same inode (a carried hard link), or the same
    content at the same relative path or where that set's manifest says it was carried
    (a copy, where links are not possible)."""

    def __init__(self, folders: tuple[Path, ...]) -> None:
        self._inodes: set[tuple[int, int]] = set()
        self._folders = [f for f in folders if f.is_dir()]
        self._carried = {f: (m.carried if (m := read_manifest(f)) else {})
                         for f in self._folders}
        for folder in self._folders:
            for path in _files(folder):
                with contextlib.suppress(OSError):
                    st = path.lstat()
                    self._inodes.add((st.st_dev, st.st_ino))

    def has(self, path: Path, rel: str) -> bool:
        try:
            st = path.lstat()
        except OSError:
            return False
        if (st.st_dev, st.st_ino) in self._inodes:
            return True
        digest = _sha256(path)
        for folder in self._folders:
            for where in {rel, self._carried[folder].get(rel, rel)}:
                other = folder / where
                if other.is_file() and not other.is_symlink() and _sha256(other) == digest:
                    return True
        return False


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder of ``folder`` to disk (a no-op where the system cannot
    flush through a read-only handle or a folder handle)."""
    for path in _files(folder):
        if not path.is_symlink():
            _fsync_path(path)
    for dirpath, _dirs, _names in os.walk(folder):
        _fsync_dir(Path(dirpath))


def _fsync_path(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_dir(path: Path) -> None:
    if os.name == "posix":
        _fsync_path(path)
