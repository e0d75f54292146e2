import os
import sys

import pytest


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite the expectations of golden programs and examples from the interpreter's output")
    parser.addoption("--cpu-all", action="store_true", default=False,
                     help="run every golden program and example on the CPU backend (slow: Numba compiles each)")


@pytest.fixture
def update_goldens(request):
    return request.config.getoption("--update-goldens")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test session uses its own Glia cache folder, never the user's. Under pytest-xdist the
    workers share one (the parent of their own temporary folders): a program compiled by one worker
    loads from the cache in the other, as two `glia` processes of one user share theirs (writes are
    atomic; tests that need an empty or a private cache set their own)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    cache = base / "glia-cache"
    monkeypatch.setenv("GLIA_CACHE_DIR", str(cache))
    # tests of the language and its diagnostics run the reference interpreter, whatever the user's
    # $GLIA_BACKEND; tests of the CPU backend ask for it (--backend cpu) themselves
    monkeypatch.setenv("GLIA_BACKEND", "interp")
    # training compiles its new traces in this process only: the suite's pytest-xdist workers use the
    # machine's CPUs already (tests/test_trace_pool.py asks for compiling workers itself)
    monkeypatch.setenv("GLIA_COMPILE_JOBS", "1")
