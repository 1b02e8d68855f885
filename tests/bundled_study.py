"""The bundled study, run once per test session (and reused across sessions while unchanged).

The report tests that matter most run on *the bundled study* (``data/raw`` with
``analysis/*.yaml``), the study ``make report`` renders, not only on the hand-made fixture
study: the bundled one is what a new user sees first. ``stats run`` on it takes a few
minutes (7 fits), so :func:`bundled_processed` runs it once into a cache folder keyed by
everything its output depends on (the raw files, the analysis specs, the package's
non-report code and the versions of the numerical libraries) and reuses that folder while the key holds.

The cache folder is ``$STATS_TEST_CACHE`` or ``<repository>/.test-cache`` (git-ignored).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Distributions whose version can change the numbers ``stats run`` writes.
NUMERICAL = ("pymc", "pytensor", "arviz", "arviz-stats", "numpy", "scipy", "pandas", "statsmodels")
#: Package folders whose code cannot change what ``stats run`` writes.
REPORT_ONLY = ("report", "plots", "render", "calibration")
_MEMO: dict[str, Path] = {}


def provenance_key() -> str:
    """Hash of every input of ``stats run`` on the bundled study."""
    digest = hashlib.sha256()
    sources = [
        *sorted((ROOT / "data" / "raw").rglob("*")),
        *sorted((ROOT / "analysis").glob("*.yaml")),
    ]
    package = ROOT / "src" / "stats"
    sources += [
        p
        for p in sorted(package.rglob("*.py"))
        if p.relative_to(package).parts[0] not in REPORT_ONLY
    ]
    for name in NUMERICAL:
        digest.update(f"{name}=={metadata.version(name)}".encode())
    for path in sources:
        if path.is_file():
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_root() -> Path:
    """Where processed bundled studies are kept between sessions."""
    return Path(os.environ.get("STATS_TEST_CACHE", ROOT / ".test-cache"))


def bundled_processed() -> Path:
    """The bundled study's processed-data folder (``stats run`` once per key; memoised)."""
    if "processed" in _MEMO:
        return _MEMO["processed"]
    key = provenance_key()
    target = cache_root() / f"bundled-{key[:16]}"
    done = target / "DONE"
    if not (done.exists() and done.read_text() == key):
        cache_root().mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="bundled-", dir=cache_root()))
        stats = Path(sys.executable).with_name("stats")
        env = {**os.environ, "PYTENSOR_FLAGS": os.environ.get("PYTENSOR_FLAGS", "blas__ldflags=")}
        result = subprocess.run(
            [str(stats), "run", "--out", str(work / "processed")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            raise RuntimeError(
                f"stats run on the bundled study failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        (work / "run.log").write_text(result.stdout + result.stderr)
        (work / "DONE").write_text(key)
        shutil.rmtree(target, ignore_errors=True)
        work.rename(target)  # the whole folder appears at once
    _MEMO["processed"] = target / "processed"
    return _MEMO["processed"]


def render_bundled(out: Path, *, quarto: str | None = None) -> Path:
    """Render the package's pages (``reports/`` links to them) on the bundled study, strictly.

    Offline unless ``quarto`` (an executable) is given; the pages are copied into ``out`` so
    that neither renderer writes into the repository. Returns the site folder.
    """
    from stats.render import render_offline, render_with_quarto

    data = bundled_processed()
    reports = out / "reports"
    shutil.copytree(ROOT / "src" / "stats" / "report" / "site", reports)
    params = {"data_dir": str(data)}
    strict = {"STATS_REPORT_STRICT": "1"}
    site = out / "site"
    if quarto is None:
        render_offline(reports, site, params, cache_dir=out / "cache", env=strict)
    else:
        run = render_with_quarto(reports, site, params, quarto=quarto, env=strict)
        (out / "quarto.log").write_text(run.log)
    return site


def bundled_site(factory: object, *, quarto: str | None = None) -> Path:
    """:func:`render_bundled` once per session and renderer (``factory``: pytest's tmp factory)."""
    name = f"site-{'quarto' if quarto else 'offline'}"
    if name not in _MEMO:
        _MEMO[name] = render_bundled(factory.mktemp(name), quarto=quarto)  # type: ignore[attr-defined]
    return _MEMO[name]


#: The Quarto kit (``install.sh DIR``), found next to the repository in CI and on this machine.
QUARTO_KIT = ROOT.parent / "shared" / "tools" / "quarto"
#: Where the kit is installed when no Quarto is found (``.ci/run`` installs it there too).
QUARTO_HOME = Path(os.environ.get("STATS_QUARTO_HOME", Path.home() / ".cache" / "stats" / "quarto"))


def quarto_executable() -> str | None:
    """Quarto: ``$STATS_QUARTO``, ``quarto`` on PATH, or the kit installed in :data:`QUARTO_HOME`.

    When none is found but the kit is present, the kit is installed (about 30 s, from npm
    and PyPI); None only when there is no Quarto and no kit.
    """
    found = os.environ.get("STATS_QUARTO") or shutil.which("quarto")
    installed = QUARTO_HOME / "bin" / "quarto"
    if found:
        return found
    if not installed.exists() and (QUARTO_KIT / "install.sh").exists():
        result = subprocess.run(
            ["bash", str(QUARTO_KIT / "install.sh"), str(QUARTO_HOME)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"installing Quarto from {QUARTO_KIT} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
            )
    return str(installed) if installed.exists() else None
