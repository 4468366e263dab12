"""Reading a plain A1111 file keeps its parameters unbuilt until the model is asked for:
the output must match the pydantic model's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gendata import api, formats
from gendata.formats import a1111
from gendata.model_fields import DeferredParams

from ..conftest import CORPUS, FIXTURES

ROOT = Path(__file__).resolve().parents[2]


def images() -> list[Path]:
    found = [p for p in FIXTURES.rglob("*") if p.suffix in (".png", ".jpg", ".webp")]
    if CORPUS.is_dir():
        found += [p for p in CORPUS.rglob("*") if p.suffix in (".png", ".jpg", ".jpeg", ".webp")]
    return sorted(found)


@pytest.mark.parametrize("path", images(), ids=str)
def test_unbuilt_params_give_the_same_record(path: Path) -> None:
    rec = api.read_safe(path)
    deferred = isinstance(rec._params, DeferredParams)
    before = rec.to_json()
    params = rec.params  # builds the model
    assert not isinstance(rec._params, DeferredParams)
    assert rec.to_json() == before
    if rec.raw is not None and not rec.error:
        built = formats.detect(rec.raw)
        assert (params is None) == (built is None)
        if params is not None:
            assert params.model_dump() == built.model_dump()
            assert params.model_fields_set == built.model_fields_set
            assert [lo.model_fields_set for lo in params.loras] == [
                lo.model_fields_set for lo in built.loras]
            assert a1111.dump(params) == a1111.dump(built) if deferred else True


def test_unbuilt_record_equality_and_pickle(tmp_path: Path) -> None:
    import pickle

    from ..services.test_export import tiny_png

    path = tmp_path / "a.png"
    path.write_bytes(tiny_png("a <lora:fox:0.5> cat\nSteps: 20, Seed: 1, Size: 8x8, Foo: bar"))
    a = api.read(path)
    b = api.read(path)
    assert isinstance(a._params, DeferredParams)
    c = pickle.loads(pickle.dumps(a))
    assert c.to_json() == a.to_json()
    assert a == b and c == b
    assert "params=GenParams(" in repr(a)
    assert a.params.loras[0].weight == 0.5 and a.params.extra == {"Foo": "bar"}


def test_show_json_and_export_do_not_import_pydantic(tmp_path: Path) -> None:
    from ..services.test_export import tiny_png

    for i in range(3):
        (tmp_path / f"{i}.png").write_bytes(tiny_png(f"a cat\nSteps: 20, Seed: {i}, Size: 8x8"))
    code = (
        "import sys; from click.testing import CliRunner; from gendata.cli import main; "
        f"r = CliRunner().invoke(main, ['show', '--json', {str(tmp_path / '0.png')!r}]);"
        f"r2 = CliRunner().invoke(main, ['export', '-f', 'csv', {str(tmp_path)!r}]);"
        "assert r.exit_code == 0 and '\"seed\"' in r.stdout, r.output;"
        # a1111_basic.png also has a Comment chunk: every dialect is asked, a1111 wins
        f"r3 = CliRunner().invoke(main, ['show', '--json', {str(FIXTURES / 'a1111_basic.png')!r}]);"
        "assert r3.exit_code == 0 and '\"a1111\"' in r3.stdout, r3.output;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'rich')))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
