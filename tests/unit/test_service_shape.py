"""Every service has the one shape (README "Layout"), and its imports keep the shape's promises:
no service imports another, rules are pure, routes only parse, call and shape."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.registry import SERVICE_NAMES

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"

REQUIRED = {
    "__init__.py",
    "__main__.py",
    "app.py",
    "settings.py",
    "context.py",
    "schemas.py",
    "models.py",
    "handlers.py",
    "README.md",
    "migrations",
}
# A role is a module, or a package once the module would pass ~250 lines.
ROLES = {"api", "rules", "commands", "queries", "repository", "tasks", "adapters"}
MUST_HAVE_ROLES = {"api", "rules", "repository"}

RULES_FORBIDDEN = (
    "sqlalchemy",
    "fastapi",
    "starlette",
    "aiokafka",
    "httpx",
    "aiosmtplib",
    "smtplib",
    "shared.db",
    "shared.clock",
    "shared.transaction",
    "shared.outbox",
    "shared.app",
)
API_FORBIDDEN = ("sqlalchemy",)


def _entries(service: str) -> dict[str, Path]:
    root = SERVICES_DIR / service
    return {p.name: p for p in root.iterdir() if p.name != "__pycache__"}


def _role_of(name: str) -> str:
    return name.removesuffix(".py")


def _modules(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _starts(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_the_service_has_the_one_shape(service: str) -> None:
    entries = _entries(service)
    missing = REQUIRED - set(entries)
    assert not missing, f"{service} lacks {sorted(missing)}"
    extra = {name for name in entries if name not in REQUIRED and _role_of(name) not in ROLES}
    assert not extra, f"{service} has names outside the shape: {sorted(extra)}"
    roles = [_role_of(name) for name in entries if _role_of(name) in ROLES]
    assert len(roles) == len(set(roles)), f"{service} has a role both as module and package"
    assert set(roles) >= MUST_HAVE_ROLES, f"{service} lacks {sorted(MUST_HAVE_ROLES - set(roles))}"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_packages_hold_no_facades(service: str) -> None:
    for init in (SERVICES_DIR / service).rglob("__init__.py"):
        if "migrations" in init.parts:
            continue
        assert init.read_text().strip() == "", f"{init} must stay empty"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_no_service_imports_another(service: str) -> None:
    others = tuple(f"services.{name}" for name in SERVICE_NAMES if name != service)
    for module in (SERVICES_DIR / service).rglob("*.py"):
        wrong = {name for name in _imports(module) if _starts(name, others)}
        assert not wrong, f"{module} imports {sorted(wrong)}"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_rules_are_pure(service: str) -> None:
    rules = _entries(service).get("rules.py") or _entries(service)["rules"]
    io_roles = ("models", "repository", "handlers", "api", "commands", "queries", "tasks")
    own_io = tuple(f"services.{service}.{role}" for role in (*io_roles, "adapters", "context"))
    for module in _modules(rules):
        for name in _imports(module):
            assert not _starts(name, RULES_FORBIDDEN + own_io), f"{module} imports {name}"
        source = module.read_text()
        for call in ("datetime.now(", "date.today(", "time.time(", ".utcnow("):
            assert call not in source, f"{module} reads the clock ({call})"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_routes_do_not_touch_the_database(service: str) -> None:
    api = _entries(service).get("api.py") or _entries(service)["api"]
    for module in _modules(api):
        for name in _imports(module):
            assert not _starts(name, (*API_FORBIDDEN, f"services.{service}.models")), (
                f"{module} imports {name}: routes call commands and queries"
            )


README_HEADINGS = ["## Owns", "## API", "## Events in and out", "## Rules and decisions"]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_the_readme_has_the_same_headings_as_every_other(service: str) -> None:
    lines = (SERVICES_DIR / service / "README.md").read_text().splitlines()
    headings = [line.strip() for line in lines if line.startswith("## ")]
    assert headings == README_HEADINGS, headings
