"""The commands as real processes: exit codes, one-line errors, no traceback, a light start.

Other CLI tests run commands in-process (conftest.invoke) because each process start costs a
second or more of imports; these few check what only a real process shows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Imported only by the commands that use them: a `--help` must not pay for them.
HEAVY = ("scipy", "matplotlib", "dask", "distributed", "jinja2", "openpyxl")


def python(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_help_starts_without_the_heavy_libraries(tmp_path):
    done = python("-X", "importtime", "-m", "gridkit", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "gridkit run" in done.stdout and "partition" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "gridkit" in imported  # the importtime listing was read
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


@pytest.mark.parametrize("entry", [["-m", "gridkit", "partition"], ["-m", "gridkit", "report"],
                                   ["-m", "gridkit.report"]])
def test_a_missing_input_is_one_line_and_exit_2(tmp_path, entry):
    done = python(*entry, tmp_path / "nope.gpkg", *(["-o", tmp_path / "out.gpkg"]
                                                     if entry[-1] == "partition" else []))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gridkit: error: "), done.stderr
    assert "nope.gpkg" in lines[0] and "no such file" in lines[0]
    assert not (tmp_path / "out.gpkg").exists()


def test_a_usage_mistake_is_one_line_and_exit_2(tmp_path):
    done = python("-m", "gridkit", "partition", "--no-such-option", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--no-such-option" in lines[0], done.stderr


@pytest.mark.parametrize(("handler", "code", "how"), [("_ctrl_c", 130, "Ctrl-C"),
                                                      ("_terminate", 143, "SIGTERM")])
def test_a_signal_inside_a_lazy_import_is_an_interruption(capsys, monkeypatch, handler, code,
                                                          how):
    # scipy and matplotlib are imported when first used: a C extension interrupted while it
    # initialises raises ImportError from the signal handler's exception; the command must
    # still end with its one line and exit code.
    from gridkit import console

    monkeypatch.setattr(console, "SIGNALLED", [])

    def lazy_import():
        try:
            getattr(console, handler)(None, None)
        except BaseException as signalled:
            raise ImportError("initialization failed") from signalled

    with pytest.raises(SystemExit) as exited:
        console._interruptible(lazy_import)
    assert exited.value.code == code
    assert capsys.readouterr().err.strip() == f"gridkit: {console._interrupted(how)}"


def test_an_import_error_of_its_own_still_raises(monkeypatch):
    from gridkit import console

    monkeypatch.setattr(console, "SIGNALLED", [])

    def broken():
        raise ImportError("no module named nowhere")

    with pytest.raises(ImportError, match="nowhere"):
        console._interruptible(broken)


@pytest.mark.parametrize(("handler", "code"), [("_ctrl_c", 130), ("_terminate", 143)])
def test_a_signal_swallowed_by_a_garbage_collector_callback_still_stops(capsys, monkeypatch,
                                                                        handler, code):
    # The handler can run inside a weakref callback (seen in CI: "Exception ignored in:
    # <function WeakKeyDictionary...remove>" then KeyboardInterrupt, and the run went on):
    # Python only prints such an exception. The command must still stop with its one line.
    import weakref

    from gridkit import console

    monkeypatch.setattr(console, "SIGNALLED", [])

    class Held:
        pass

    def work():
        held = Held()

        def callback(_):  # where the signal handler ran
            getattr(console, handler)(None, None)

        ref = weakref.ref(held, callback)
        del held  # the callback runs; its exception cannot propagate
        assert ref() is None
        for _ in range(10_000_000):  # the command running on; stopped by the signal sent again
            pass
        return "finished"

    with pytest.raises(SystemExit) as exited:
        console._interruptible(work)
    assert exited.value.code == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert err.strip() == f"gridkit: {console._interrupted(console.SIGNALLED[0])}"
