"""Packaging guards: pyproject.toml ships every import package, and a built wheel works on its own.

The import packages live in top-level folders (DESIGN.md §2): `glia.compiler` is compiler/,
`glia.runtime` is runtime/, `glia.grammar` is grammar/, mapped by `[tool.setuptools] package-dir`.
setuptools ships only the packages listed in `packages`: a new subpackage that is not listed
silently drops out of the wheel while every test run from the source tree still passes. So:

- the fast test reads pyproject.toml and compares it with the folders on disk;
- the slow tests build a wheel from a copy of the build inputs, install it with `--no-deps` into a
  fresh virtualenv, and run the `glia` console script and the golden-program tests from a folder
  outside the repository, so that the installed wheel, not the source tree, is what gets imported.

Also runnable as a script (`.ci/run` does this after pytest): `python tests/test_packaging.py`
builds a wheel with `python -m build --wheel` (or `--frontend pip`) and checks what is in it.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]

# The mapping DESIGN.md §2 asks for: import package -> repository folder.
MAPPED_ROOTS = {
    "glia": "glia",
    "glia.compiler": "compiler",
    "glia.runtime": "runtime",
    "glia.grammar": "grammar",
}
# Non-Python files that must travel with their package (package-data globs must cover them).
DATA_SUFFIXES = (".lark", ".glia")
# Folders that are never packages.
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache"}
# Files besides the package folders that a build may need.
BUILD_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in",
               "LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING")

SMOKE_PROGRAM = """\
# Smoke test for an installed wheel: recursion, lists, loops, and the prelude's heap.
def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

def main():
    h: list[int] = []
    for x in [5, 1, 4, 2, 3]:
        heappush(h, x)
    out: list[int] = []
    while len(h) > 0:
        out.append(heappop(h))
    print(out, fib(10))
"""
SMOKE_EXPECTED = "[1, 2, 3, 4, 5] 55"


# ---------------------------------------------------------------------------------------------
# Reading pyproject.toml and the source tree


def load_pyproject(root: Path = ROOT) -> dict:
    if tomllib is None:
        toml = pytest.importorskip("tomli", reason="Python 3.10 needs tomli to read pyproject.toml")
        return toml.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


def package_folder(package: str, package_dir: dict[str, str]) -> Path:
    """Where setuptools looks for `package`: the longest mapped prefix wins (as in build_py)."""
    parts = package.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in package_dir:
            return Path(package_dir[prefix], *parts[i:])
    return Path(package_dir.get("", "."), *parts)


def _walk(root: Path):
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        yield Path(folder), files


def source_packages(root: Path = ROOT) -> dict[str, Path]:
    """Every folder holding an __init__.py under the mapped roots, by its import name."""
    found = {}
    for package, folder in MAPPED_ROOTS.items():
        base = root / folder
        if not base.is_dir():
            continue
        for path, files in _walk(base):
            if "__init__.py" in files:
                rel = path.relative_to(base).parts
                found[".".join((package, *rel))] = path.relative_to(root)
    return found


def orphan_code_folders(root: Path = ROOT) -> list[Path]:
    """Folders under the mapped roots with .py or data files but no __init__.py: never shipped."""
    orphans = []
    for folder in MAPPED_ROOTS.values():
        base = root / folder
        if not base.is_dir():
            continue
        for path, files in _walk(base):
            shipped = any(f.endswith(".py") or f.endswith(DATA_SUFFIXES) for f in files)
            if shipped and "__init__.py" not in files:
                orphans.append(path.relative_to(root))
    return orphans


def expected_wheel_files(root: Path = ROOT) -> set[str]:
    """Paths inside the wheel for every module and data file of every source package."""
    expected = set()
    for package, folder in source_packages(root).items():
        prefix = package.replace(".", "/")
        for child in (root / folder).iterdir():
            if child.is_file() and (child.suffix == ".py" or child.name.endswith(DATA_SUFFIXES)):
                expected.add(f"{prefix}/{child.name}")
    return expected


# ---------------------------------------------------------------------------------------------
# Fast test


def test_pyproject_lists_every_package_and_data_file():
    config = load_pyproject()
    setuptools_cfg = config["tool"]["setuptools"]
    package_dir = setuptools_cfg["package-dir"]
    listed = setuptools_cfg["packages"]
    problems = []

    for package, folder in MAPPED_ROOTS.items():
        if package_dir.get(package) != folder:
            problems.append(f'package-dir must map "{package}" = "{folder}" '
                            f"(found {package_dir.get(package)!r})")

    on_disk = source_packages()
    for package, folder in sorted(on_disk.items()):
        if package not in listed:
            problems.append(f'{folder}/ has an __init__.py but "{package}" is not in '
                            "[tool.setuptools] packages: it would be missing from the wheel")
        elif package_folder(package, package_dir) != folder:
            problems.append(f'"{package}" resolves to {package_folder(package, package_dir)}/ '
                            f"through package-dir, but the package is {folder}/")
    for package in listed:
        if package not in on_disk and (ROOT / package_folder(package, package_dir)).exists():
            problems.append(f'"{package}" is listed but {package_folder(package, package_dir)}/ '
                            "has no __init__.py")
        elif package not in on_disk:
            problems.append(f'"{package}" is listed but {package_folder(package, package_dir)}/ '
                            "does not exist")
    if len(set(listed)) != len(listed):
        problems.append("[tool.setuptools] packages lists a package twice")

    for folder in orphan_code_folders():
        problems.append(f"{folder}/ holds code or data but no __init__.py: "
                        "add one (and list the package) or it is not shipped")

    package_data = config["tool"]["setuptools"].get("package-data", {})
    if "*.lark" not in package_data.get("glia.grammar", []):
        problems.append('[tool.setuptools.package-data] needs "glia.grammar" = ["*.lark"]')
    if "*.glia" not in package_data.get("glia.compiler", []):
        problems.append('[tool.setuptools.package-data] needs "glia.compiler" = ["*.glia"]')
    for package, folder in on_disk.items():
        globs = package_data.get(package, []) + package_data.get("*", []) + package_data.get("", [])
        for child in sorted((ROOT / folder).iterdir()):
            if child.is_file() and child.name.endswith(DATA_SUFFIXES):
                if not any(fnmatch.fnmatch(child.name, g) for g in globs):
                    problems.append(f"{folder / child.name} is not covered by package-data "
                                    f'for "{package}": it would be missing from the wheel')

    scripts = config["project"].get("scripts", {})
    if scripts.get("glia") != "glia.cli:main":
        problems.append('[project.scripts] needs glia = "glia.cli:main"')

    assert not problems, ("pyproject.toml does not match the source tree:\n  "
                          + "\n  ".join(problems))


# ---------------------------------------------------------------------------------------------
# Building, checking and installing a wheel (shared by the slow tests and the script entry)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for child processes: nothing that would put the repository on sys.path."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


def run(cmd: list, cwd: Path, timeout: float = 900, env: dict | None = None, check: bool = True):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or clean_env(), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"command failed with status {proc.returncode}: "
                             f"{' '.join(map(str, cmd))}\n(cwd {cwd})\n{proc.stdout[-6000:]}")
    return proc


def copy_build_inputs(dst: Path, root: Path = ROOT) -> Path:
    """Copy what a build reads into `dst`, so that stale build/ or *.egg-info folders in the
    checkout cannot leak into the wheel and the checkout is not written to."""
    config = load_pyproject(root)
    dst.mkdir(parents=True, exist_ok=True)
    readme = config["project"].get("readme")
    names = list(BUILD_FILES) + ([readme] if isinstance(readme, str) else [])
    for name in names:
        if (root / name).is_file():
            shutil.copy2(root / name, dst / name)
    ignore = shutil.ignore_patterns(*SKIP_DIRS, "*.pyc", "*.pyo", "*.egg-info")
    for folder in sorted(set(config["tool"]["setuptools"]["package-dir"].values())):
        if (root / folder).is_dir():
            shutil.copytree(root / folder, dst / folder, ignore=ignore)
    return dst


def build_wheel(out_dir: Path, frontend: str = "pip", work: Path | None = None) -> Path:
    work = Path(work or tempfile.mkdtemp(prefix="glia-build-"))
    src = copy_build_inputs(work / "src")
    out_dir.mkdir(parents=True, exist_ok=True)
    if frontend == "pip":
        run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out_dir, "."], cwd=src)
    elif frontend == "build":
        run([sys.executable, "-m", "build", "--wheel", "--outdir", out_dir, "."], cwd=src)
    else:
        raise ValueError(frontend)
    wheels = sorted(out_dir.glob("glia-*.whl"))
    assert len(wheels) == 1, f"expected one glia wheel in {out_dir}, found {wheels}"
    return wheels[0]


def wheel_problems(wheel: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the contents of a built wheel (empty list: nothing)."""
    version = load_pyproject(root)["project"]["version"]
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        dist_info = f"glia-{version}.dist-info"
        entry_points = (zf.read(f"{dist_info}/entry_points.txt").decode()
                        if f"{dist_info}/entry_points.txt" in names else "")
    problems = [f"missing from the wheel: {name}"
                for name in sorted(expected_wheel_files(root) - names)]
    stray = sorted(n for n in names if not (n.startswith("glia/") or n.startswith(dist_info + "/")))
    problems += [f"outside the glia package in the wheel: {name}" for name in stray]
    if "glia/__init__.py" not in names:
        problems.append("missing from the wheel: glia/__init__.py")
    if "glia = glia.cli:main" not in entry_points:
        problems.append("the wheel does not declare the console script glia = glia.cli:main")
    return problems


# ---------------------------------------------------------------------------------------------
# Slow tests


class Installed:
    """A fresh virtualenv with the built wheel installed, and a scratch folder outside the repo."""

    def __init__(self, wheel: Path, venv: Path, work: Path, site: Path):
        self.wheel, self.venv, self.work, self.site = wheel, venv, work, site

    @property
    def bin(self) -> Path:
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin / ("python.exe" if os.name == "nt" else "python")

    def env(self) -> dict[str, str]:
        return clean_env(PATH=str(self.bin) + os.pathsep + os.environ.get("PATH", ""),
                         VIRTUAL_ENV=str(self.venv))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel-build")
    assert not work.resolve().is_relative_to(ROOT), "scratch folder must lie outside the repository"
    return build_wheel(work / "dist", "pip", work)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Installed:
    base = tmp_path_factory.mktemp("wheel-venv")
    venv, work = base / "venv", base / "work"
    work.mkdir()
    # --system-site-packages: numba, numpy, pytest... come from the base interpreter. When the
    # tests themselves run in a virtualenv (CI's .venv), that one is not the "system" of the new
    # venv, so its site-packages are added with a .pth file. Plain folder lines in a .pth do not
    # run the .pth files inside them, so an editable install of glia there stays inert.
    run([sys.executable, "-m", "venv", "--system-site-packages", venv], cwd=base, timeout=300)
    inst = Installed(wheel, venv, work, site=Path())
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(run([inst.python, "-c", where], cwd=work, env=inst.env()).stdout.strip())
    inst.site = site
    if sys.prefix != sys.base_prefix:
        import sysconfig
        parents = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
        (site / "_glia_test_parent_env.pth").write_text("\n".join(parents) + "\n")
    # --force-reinstall: the parent env's editable glia (same version) must not count as installed.
    run([inst.python, "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall",
         wheel], cwd=work, env=inst.env(), timeout=300)
    return inst


@pytest.mark.slow
def test_wheel_contents(wheel):
    problems = wheel_problems(wheel)
    assert not problems, f"{wheel.name}:\n  " + "\n  ".join(problems)


@pytest.mark.slow
def test_installed_wheel_is_what_gets_imported(installed):
    probe = (
        "import importlib, importlib.resources as r, json\n"
        "mods = {n: importlib.import_module(n).__file__ for n in %r}\n"
        "data = sorted(p.name for n in mods for p in r.files(n).iterdir()\n"
        "              if p.name.endswith(%r))\n"
        "import glia\n"
        "print(json.dumps({'modules': mods, 'data': data, 'version': glia.__version__}))\n"
    ) % (sorted(source_packages()), DATA_SUFFIXES)
    out = run([installed.python, "-c", probe], cwd=installed.work, env=installed.env()).stdout
    report = json.loads(out.strip().splitlines()[-1])
    site = installed.site.resolve()
    for name, file in report["modules"].items():
        path = Path(file).resolve()
        assert path.is_relative_to(site), f"{name} was imported from {path}, not from {site}"
        assert not path.is_relative_to(ROOT), f"{name} was imported from the source tree: {path}"
    shipped_data = sorted(n.rsplit("/", 1)[-1] for n in expected_wheel_files()
                          if n.endswith(DATA_SUFFIXES))
    assert report["data"] == shipped_data, "package data not readable from the installed wheel"
    assert report["version"] == load_pyproject()["project"]["version"]


def _cli_exists() -> bool:
    return (ROOT / "glia" / "cli.py").is_file() or (ROOT / "glia" / "cli" / "__init__.py").is_file()


@pytest.mark.slow
def test_installed_console_script(installed):
    if not _cli_exists():
        pytest.skip("glia.cli does not exist yet (no glia/cli.py): the installed `glia` "
                    "console script has nothing to run")
    glia = installed.bin / "glia"
    version = load_pyproject()["project"]["version"]
    proc = run([glia, "--version"], cwd=installed.work, env=installed.env(), timeout=120)
    assert version in proc.stdout, f"`glia --version` printed {proc.stdout!r}"

    program = installed.work / "smoke.glia"
    program.write_text(SMOKE_PROGRAM, encoding="utf-8")
    proc = run([glia, "run", program.name], cwd=installed.work, env=installed.env(), timeout=600)
    assert proc.stdout.strip().splitlines()[-1:] == [SMOKE_EXPECTED], \
        f"`glia run smoke.glia` printed:\n{proc.stdout}"

    example = ROOT / "examples" / "shortest_paths.glia"
    if example.is_file():  # the README's first command, from the wheel instead of the checkout
        shutil.copytree(ROOT / "examples", installed.work / "examples", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(*SKIP_DIRS))
        run([glia, "run", "examples/shortest_paths.glia"], cwd=installed.work,
            env=installed.env(), timeout=600)


GUARD_PLUGIN = """\
# Written by tests/test_packaging.py: records where the glia modules of this run came from.
import json, os, sys

def pytest_sessionfinish(session, exitstatus):
    mods = {n: getattr(m, "__file__", None) for n, m in list(sys.modules.items())
            if n == "glia" or n.startswith("glia.")}
    with open(os.environ["GLIA_WHEEL_GUARD_REPORT"], "w") as f:
        json.dump(mods, f)
"""


@pytest.mark.slow
def test_golden_programs_against_installed_wheel(installed):
    if not (ROOT / "tests" / "test_programs.py").is_file():
        pytest.skip("tests/test_programs.py does not exist yet: golden programs not run "
                    "against the installed wheel")
    # A copy of tests/ (and examples/, which tests may read) in a folder without the sources:
    # `python -m pytest` puts only that folder on sys.path, so glia comes from the wheel.
    run_dir = installed.work / "golden"
    ignore = shutil.ignore_patterns(*SKIP_DIRS, "*.pyc")
    for folder in ("tests", "examples"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, run_dir / folder, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", run_dir / "pyproject.toml")  # pytest settings, markers
    (run_dir / "_glia_wheel_guard.py").write_text(GUARD_PLUGIN)
    report = run_dir / "glia_modules.json"
    env = installed.env()
    env["GLIA_WHEEL_GUARD_REPORT"] = str(report)
    proc = run([installed.python, "-m", "pytest", "-q", "-p", "_glia_wheel_guard",
                "-p", "no:cacheprovider", "tests/test_programs.py"],
               cwd=run_dir, env=env, timeout=1200, check=False)
    if proc.returncode == 5:
        pytest.skip("tests/test_programs.py collected no tests")
    assert proc.returncode == 0, f"golden programs failed against the installed wheel:\n" \
                                 f"{proc.stdout[-8000:]}"
    site = installed.site.resolve()
    for name, file in json.loads(report.read_text()).items():
        if file:
            path = Path(file).resolve()
            assert path.is_relative_to(site) and not path.is_relative_to(ROOT), \
                f"during the golden run {name} was imported from {path}, not from the wheel"


# ---------------------------------------------------------------------------------------------
# Script entry: `python tests/test_packaging.py [--frontend build|pip]`


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a glia wheel and check its contents.")
    parser.add_argument("--frontend", choices=("build", "pip"), default="build",
                        help="`python -m build --wheel` (default) or `pip wheel --no-deps`")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="glia-wheel-check-") as tmp:
        wheel = build_wheel(Path(tmp) / "dist", args.frontend, Path(tmp))
        problems = wheel_problems(wheel)
        with zipfile.ZipFile(wheel) as zf:
            count = len(zf.namelist())
    if problems:
        print(f"wheel check ({args.frontend}): {wheel.name} is wrong:\n  " + "\n  ".join(problems))
        return 1
    print(f"wheel check ({args.frontend}): {wheel.name} OK, {count} files, "
          f"{len(expected_wheel_files())} expected modules/data files present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
