"""How a file is replaced (gendata/containers/atomic.py): through links, keeping mode, owner
and attributes, never onto devices, with temporary files that never outlive the write, and
never over a change made by someone else (issue 11, unsafe writes)."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

import gendata
from gendata import api
from gendata.containers import atomic, locks, tempfiles
from gendata.errors import FileChangedError, WriteError

from ..helpers import build_png, tiny_png_chunks

TEXT = "a cat\nSteps: 20, Sampler: Euler a, Seed: 1"


@pytest.fixture
def png(tmp_path: Path) -> Path:
    chunks = tiny_png_chunks()
    chunks.insert(1, (b"tEXt", b"parameters\0" + TEXT.encode()))
    p = tmp_path / "a.png"
    p.write_bytes(build_png(chunks))
    return p


def _seed(p: Path) -> int | None:
    return gendata.read(p).params.seed


def _set_seed(p: Path | str, seed: int, **kw: object) -> list[str]:
    return api.edit(p, lambda rec: api.update(api.editable_params(rec), {"seed": seed}), **kw)


def _others(folder: Path, *keep: str) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n not in keep)


def test_a_symlink_stays_a_link_and_its_target_changes(png: Path) -> None:
    link = png.parent / "link.png"
    link.symlink_to(png.name)
    _set_seed(link, 5)
    assert link.is_symlink() and os.readlink(link) == png.name
    assert _seed(png) == 5
    gendata.write_text(link, "b\nSteps: 1, Sampler: Euler, Seed: 6", output=link)
    assert link.is_symlink() and _seed(png) == 6


def test_a_dangling_link_is_refused(png: Path, tmp_path: Path) -> None:
    dangling = tmp_path / "nowhere.png"
    dangling.symlink_to("missing.png")
    with pytest.raises(WriteError, match="does not exist"):
        gendata.write_text(png, TEXT, output=dangling)
    assert dangling.is_symlink() and not (tmp_path / "missing.png").exists()


def test_hard_links_are_refused_or_rewritten_in_place(png: Path) -> None:
    other = png.parent / "other.png"
    os.link(png, other)
    before = png.read_bytes()
    with pytest.raises(WriteError, match="2 hard links"):
        _set_seed(png, 5)
    assert png.read_bytes() == before
    inode = png.stat().st_ino
    _set_seed(png, 5, force=True)
    assert png.stat().st_ino == other.stat().st_ino == inode
    assert _seed(other) == 5


def test_read_only_files_are_refused_without_force(png: Path) -> None:
    png.chmod(0o444)
    before = png.read_bytes()
    with pytest.raises(WriteError, match="read-only"):
        _set_seed(png, 5)
    with pytest.raises(WriteError, match="read-only"):
        gendata.strip(png)
    assert png.read_bytes() == before
    _set_seed(png, 5, force=True)
    assert _seed(png) == 5
    assert stat.S_IMODE(png.stat().st_mode) == 0o444


def test_mode_owner_and_xattrs_are_kept(png: Path) -> None:
    png.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(png, 1234, 5678)
    try:
        os.setxattr(png, "user.gendata.test", b"kept")
    except OSError:
        xattr = False
    else:
        xattr = True
    _set_seed(png, 5)
    st = png.stat()
    assert stat.S_IMODE(st.st_mode) == 0o640
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (1234, 5678)
    if xattr:
        assert os.getxattr(png, "user.gendata.test") == b"kept"


def test_a_new_output_gets_the_umask_mode(png: Path, tmp_path: Path) -> None:
    png.chmod(0o600)
    old = os.umask(0o027)
    try:
        gendata.write_text(png, TEXT, output=tmp_path / "new.png")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.png").stat().st_mode) == 0o600 & ~0o027


def _special(kind: str, tmp_path: Path) -> Path:
    p = tmp_path / f"{kind}.png"
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(p))
        s.close()
    elif kind == "directory":
        p.mkdir()
    elif kind == "device":
        return Path(os.devnull)
    return p


@pytest.mark.parametrize("kind", ["fifo", "socket", "directory", "device"])
def test_outputs_that_are_not_regular_files_are_refused(png: Path, tmp_path: Path,
                                                        kind: str) -> None:
    target = _special(kind, tmp_path)
    before = os.lstat(target)
    for force in (False, True):
        with pytest.raises(WriteError, match="not a regular file"):
            gendata.write_text(png, TEXT, output=target, force=force)
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert not [n for n in os.listdir(tmp_path) if tempfiles.is_temp_name(n)]


def test_anonymous_temp_file_has_no_name_while_written(png: Path) -> None:
    if not tempfiles._tmpfile_usable():
        pytest.skip("no O_TMPFILE here")
    with atomic.atomic_output(png) as f:
        f.write(png.read_bytes())
        assert os.listdir(png.parent) == ["a.png"]
    assert os.listdir(png.parent) == ["a.png"]


def test_named_temp_file_is_ours_and_removed_on_failure(png: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENDATA_NO_TMPFILE", "1")
    before = png.read_bytes()
    with pytest.raises(RuntimeError), atomic.atomic_output(png) as f:
        f.write(b"partial")
        (name,) = _others(png.parent, "a.png")
        assert tempfiles.TEMP_PATTERN.match(name)
        assert name.startswith(".a.png.gendata-")
        raise RuntimeError("boom")
    assert _others(png.parent, "a.png") == []
    assert png.read_bytes() == before


def test_stale_temp_files_are_cleaned(png: Path, tmp_path: Path) -> None:
    dead = tmp_path / ".a.png.gendata-999999999-0badc0de.tmp"
    old = tmp_path / f".b.png.gendata-{os.getppid()}-00000001.tmp"
    fresh = tmp_path / f".c.png.gendata-{os.getppid()}-00000002.tmp"
    unrelated = tmp_path / ".a.png.tmp"
    for p in (dead, old, fresh, unrelated):
        p.write_bytes(b"x")
    hour_ago = time.time() - 2 * tempfiles.STALE_AFTER
    os.utime(old, (hour_ago, hour_ago))
    _set_seed(png, 5)
    assert sorted(os.listdir(tmp_path)) == sorted(["a.png", fresh.name, unrelated.name])


def test_a_change_made_while_writing_is_not_overwritten(png: Path, tmp_path: Path) -> None:
    with pytest.raises(FileChangedError, match="changed on disk"), atomic.atomic_output(png) as f:
        f.write(b"ours")
        other = tmp_path / "other"
        other.write_bytes(b"someone else's edit")
        os.replace(other, png)
    assert png.read_bytes() == b"someone else's edit"
    assert _others(tmp_path, "a.png") == []


def test_expect_refuses_a_file_changed_since_it_was_read(png: Path) -> None:
    rec = gendata.read(png)
    assert rec.identity == api.file_identity(png)
    _set_seed(png, 9)  # another program's edit
    with pytest.raises(FileChangedError, match="changed on disk since it was read"):
        gendata.write(png, api.update(rec.params, {"steps": 3}), expect=rec.identity)
    assert _seed(png) == 9
    fresh = gendata.read(png)
    gendata.write(png, api.update(fresh.params, {"steps": 3}), expect=fresh.identity)
    assert (_seed(png), gendata.read(png).params.steps) == (9, 3)


def test_concurrent_edits_in_threads_all_land(png: Path) -> None:
    fields = ["seed", "steps", "cfg_scale", "clip_skip"]
    for round_ in range(5):
        values = {"seed": 100 + round_, "steps": 10 + round_, "cfg_scale": 3.0 + round_,
                  "clip_skip": 1 + round_}
        start = threading.Barrier(len(fields))

        def one(name: str, value: object, start: threading.Barrier) -> None:
            start.wait()
            api.edit(png, lambda rec: api.update(api.editable_params(rec), {name: value}))

        threads = [threading.Thread(target=one, args=(f, values[f], start)) for f in fields]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        params = gendata.read(png).params
        assert {f: getattr(params, f) for f in fields} == values


def test_the_lock_follows_the_file_it_replaces(png: Path) -> None:
    """Held across two writes: another thread cannot slip in between them."""
    order: list[str] = []
    with api.editing(png):
        _set_seed(png, 1)
        t = threading.Thread(target=lambda: (_set_seed(png, 2), order.append("other")))
        t.start()
        time.sleep(0.2)
        order.append("first")
        _set_seed(png, 3)
        assert locks.held(png) is not None
    t.join()
    assert order == ["first", "other"]
    assert _seed(png) == 2


def test_force_in_an_outer_scope_is_not_taken_back(png: Path) -> None:
    png.chmod(0o444)
    with api.editing(png, force=True):
        gendata.write_text(png, TEXT.replace("Seed: 1", "Seed: 4"))
    assert _seed(png) == 4


def test_copy_onto_a_link_writes_the_target(png: Path, tmp_path: Path, fixtures: Path) -> None:
    dst = tmp_path / "dst.jpg"
    shutil.copyfile(fixtures / "a1111.jpg", dst)
    link = tmp_path / "dst-link.jpg"
    link.symlink_to(dst)
    gendata.copy(png, link)
    assert link.is_symlink() and _seed(dst) == 1
