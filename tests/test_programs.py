"""Every golden program and every example runs with the reference interpreter and gives exactly
the output (and the error code and position) it declares."""
from pathlib import Path

import pytest

from golden import parse_expectations, rewrite_expectations, run_file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROGRAMS = sorted((HERE / "programs").rglob("*.glia"))
EXAMPLES = sorted((ROOT / "examples").glob("*.glia"))


def _id(p: Path) -> str:
    return str(p.relative_to(p.parents[1]))


@pytest.mark.parametrize("path", PROGRAMS, ids=_id)
def test_golden_program(path: Path, update_goldens):
    exp = parse_expectations(path.read_text(encoding="utf-8"))
    got = run_file(path, exp.args, cwd=ROOT)
    if update_goldens:
        rewrite_expectations(path, got)
        return
    assert got.output == exp.output, f"output differs\n{got.rendered}"
    assert got.error == exp.error, f"expected error {exp.error}, got:\n{got.rendered or 'no error'}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example(path: Path, update_goldens):
    exp = parse_expectations(path.read_text(encoding="utf-8"))
    got = run_file(path, exp.args, cwd=ROOT)
    out_file = path.with_suffix(".out")
    if update_goldens:
        out_file.write_text("".join(line + "\n" for line in got.output), encoding="utf-8")
        return
    assert got.error is None, got.rendered
    expected = out_file.read_text(encoding="utf-8").splitlines()
    assert got.output == expected


def test_corpus_is_substantial():
    assert len(PROGRAMS) >= 60 and len(EXAMPLES) >= 5
