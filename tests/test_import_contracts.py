"""The import contracts in pyproject.toml ([tool.importlinter]) hold: dependencies point one way.

import-linter reads the contracts and the whole import graph of `engine` and `app` (imports inside
functions included); a broken contract fails with import-linter's report, which names the import
chain that breaks it.
"""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(config: Path) -> subprocess.CompletedProcess:
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(config)!r}, no_cache=True, no_logo=True))")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "500"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)


def test_every_import_contract_is_kept():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    out = lint_imports(ROOT / "pyproject.toml")
    assert out.returncode == 0, out.stdout + out.stderr
    for contract in contracts:
        assert f"{contract['name']} KEPT" in out.stdout, out.stdout


def test_a_broken_contract_fails_with_the_import_that_breaks_it(tmp_path):
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["engine"]\n\n'
        '[[tool.importlinter.contracts]]\nname = "decoding without models"\ntype = "forbidden"\n'
        'source_modules = ["engine.decode"]\nforbidden_modules = ["engine.model"]\n')
    out = lint_imports(config)
    assert out.returncode != 0
    assert "decoding without models BROKEN" in out.stdout
    assert "engine.decode.loop -> engine.model." in out.stdout, out.stdout
