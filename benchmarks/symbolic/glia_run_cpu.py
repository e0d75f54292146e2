"""`glia run --backend cpu FILE ARGS` for a checkout whose command line does not have `--backend cpu`
yet: the same driver call (check, then run main with the CPU backend; the fallback note on stderr)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from glia.compiler.diagnostics import GliaError  # noqa: E402
from glia.compiler.driver import check_source, read_source, run_program  # noqa: E402


def main() -> int:
    try:
        program = check_source(read_source(sys.argv[1]))
        code = run_program(program, sys.argv[2:], backend="cpu", notes=lambda s: print(s, file=sys.stderr))
    except GliaError as e:
        sys.stdout.flush()
        sys.stderr.write(e.render() + "\n")
        return 1
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
