"""The docs stay true where a test can tell: error codes are unique and every code the checker or a
command raises is documented."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_error_codes_are_unique_and_documented():
    table = re.findall(r"^\| (E\d{3}) \|", (ROOT / "docs" / "language.md").read_text(encoding="utf-8"), re.M)
    dupes = sorted({c for c in table if table.count(c) > 1})
    assert not dupes, f"error codes documented twice with different meanings: {dupes}"
    raised = set()
    for folder in ("compiler", "runtime", "glia"):
        for path in (ROOT / folder).rglob("*.py"):
            raised |= set(re.findall(r"""["'](E\d{3})["']""", path.read_text(encoding="utf-8")))
    undocumented = sorted(raised - set(table))
    assert not undocumented, f"error codes raised but not in docs/language.md: {undocumented}"
