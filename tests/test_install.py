"""The serve install, made from the lock into a new virtual environment as `make serve` makes it,
reads every supported format: a dependency missing from the lock (as lxml_html_clean once was
for HTML) fails here rather than on a user's fresh machine."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from docfiles import write_all

LOCKS = ROOT / "requirements"


def _pins(lock: Path) -> dict[str, str]:
    pins = {}
    for line in lock.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_the_locks_pin_everything_and_serving_is_what_is_tested():
    serve, test = _pins(LOCKS / "serve.txt"), _pins(LOCKS / "test.txt")
    assert all(serve.values()) and all(test.values())  # every line is name==version
    assert {name: test.get(name) for name in serve} == serve
    for needed in ("lxml-html-clean", "trafilatura", "pypdf", "python-docx", "markdown-it-py", "faiss-cpu"):
        assert needed in serve, needed
    assert serve["torch"].endswith("+cpu")  # never the CUDA build
    assert not any(name.startswith("nvidia-") for name in test)


def test_every_imported_distribution_is_declared():
    """The package's imports of third-party code come from distributions pyproject.toml names."""
    declared = (ROOT / "pyproject.toml").read_text().lower()
    for module, distribution in {"lxml_html_clean": "lxml_html_clean", "trafilatura": "trafilatura",
                                 "docx": "python-docx", "pypdf": "pypdf", "markdown_it": "markdown-it-py"}.items():
        assert f'"{distribution}' in declared, module


@pytest.mark.slow
def test_a_fresh_serve_install_from_the_lock_ingests_every_format(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps"]
    environment = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    subprocess.run(pip + ["-r", str(LOCKS / "serve.txt")], check=True, env=environment, timeout=1800)
    subprocess.run(pip + ["--no-build-isolation", "-e", str(ROOT)], check=True, env=environment, timeout=600,
                   cwd=tmp_path)
    check = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "check"], capture_output=True, text=True,
                           env=environment)
    assert check.returncode == 0, check.stdout  # the lock is consistent: nothing missing, nothing conflicting

    folder = write_all(tmp_path / "formats")  # one file of each supported format
    (folder / "bridge.txt").write_text("The Vardo bridge opened in 1999 after six years of work.\n", encoding="utf-8")
    suffixes = sorted({p.suffix for p in folder.iterdir()})
    assert suffixes == [".docx", ".html", ".md", ".pdf", ".txt"]
    qa = str(venv / "bin" / "qa")
    run_env = {**environment, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "QA_SETTINGS_FILE": str(tmp_path / "absent.toml")}
    ingest = subprocess.run([qa, "ingest", str(folder), "--store", str(tmp_path / "store"), "--json"],
                            capture_output=True, text=True, env=run_env, cwd=tmp_path, timeout=900)
    assert ingest.returncode == 0, ingest.stderr
    report = json.loads(ingest.stdout)
    assert report["skipped"] == [] and report["added"] == len(list(folder.iterdir()))
    ask = subprocess.run([qa, "ask", "Who is the new director of the Nordbreen station?", "--store",
                          str(tmp_path / "store"), "--json"], capture_output=True, text=True, env=run_env,
                         cwd=tmp_path, timeout=600)
    assert ask.returncode == 0, ask.stderr
    assert any("Ingrid Valen" in c["quote"] for c in json.loads(ask.stdout)["citations"])
