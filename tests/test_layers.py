"""The packages of qa/ are layers of the pipeline, and no module imports from a layer above its own
(annotation-only imports included): text never reaches into retrieval, the store never into
answering, nothing below the faces into the faces. A new upward import fails here by name."""
from __future__ import annotations

import ast
from pathlib import Path

QA = Path(__file__).resolve().parent.parent / "qa"
# lowest first; a module may import from its own layer and from any layer below it
LAYERS = [
    {"errors", "types", "requests", "stages", "messages"},  # requests: what every face asks the engine
    {"codec", "settings", "text", "embedding"},  # the codec reads types from JSON: types never import it
    {"store"},
    {"ingest", "retrieval"},
    {"answering", "library", "verification"},
    {"engine"},
    {"faces", "integrations", "__main__", "__init__"},
]
LAYER = {package: n for n, packages in enumerate(LAYERS) for package in packages}


def _package(path: Path) -> str:
    parts = path.relative_to(QA).parts
    return parts[0] if len(parts) > 1 else path.stem


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qa."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("qa.")}
    return found


def test_every_package_has_a_layer():
    assert {_package(p) for p in QA.rglob("*.py")} <= set(LAYER)


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [f"{path.relative_to(QA.parent)} imports qa.{target}"
              for path in sorted(QA.rglob("*.py"))
              for target in _imported_packages(path)
              if LAYER.get(target, -1) > LAYER[_package(path)]]
    assert upward == []
