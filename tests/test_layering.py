"""House rules that matter, checked rather than remembered (STYLE.md 2, 8, 12, 15): the
layering of DESIGN.md (import-linter contracts in pyproject.toml), SQL only in queries.py,
and small modules. Each check is shown to bite on a deliberately bad module, so a check that
silently stopped looking would fail here too."""

from __future__ import annotations

import ast
import shutil
import statistics
import subprocess
import sys
import tomllib
from pathlib import Path
from textwrap import dedent

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engagement", "games", "referrals", "workers")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    # import-linter reads cwd's pyproject.toml and puts cwd first on sys.path, so a copy of
    # the project is analysed instead of the installed one.
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def contract_name(contract_id: str) -> str:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c["name"] for c in contracts if c["id"] == contract_id)


def test_the_layering_holds() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_kit_module_importing_a_domain_breaks_the_kit_contract(tmp_path: Path) -> None:
    # A copy, so that a crash cannot leave the bad module in the real tree.
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "templates", "locale"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "engagement" / "kit" / "shortcut.py").write_text("import games\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert f"{contract_name('kit')} BROKEN" in result.stdout
    assert "engagement.kit.shortcut -> games" in result.stdout


# asyncpg's ways of running a statement, on a connection, a pool or a prepared statement.
SQL_CALLS = {"fetch", "fetchrow", "fetchval", "execute", "executemany", "prepare", "cursor",
             "copy_records_to_table", "copy_to_table", "copy_from_table", "copy_from_query"}
SQL_WORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
# Plumbing, not a domain's data: the readiness probe asks PostgreSQL for one round trip and
# reads no table. (engagement/kit/db.py opens pools and transactions and
# engagement/kit/migrate.py hands the .sql migrations to yoyo; neither holds a statement.)
PLUMBING = {"engagement/kit/health.py": {".fetchval(", "SELECT 1"}}


def stray_sql(path: Path) -> list[str]:
    """Statements run and SQL written in ``path``: what belongs in a queries.py."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_CALLS
                # A Redis pipeline's execute() takes no statement.
                and (node.args or node.func.attr != "execute")):
            found.append(f".{node.func.attr}(")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            words = node.value.split(None, 1)
            if words and words[0] in SQL_WORDS and len(words) > 1:
                found.append(node.value.strip().splitlines()[0])
    return found


def python_files(root: Path = ROOT) -> list[Path]:
    return sorted(path for package in PACKAGES for path in (root / package).rglob("*.py"))


def test_sql_lives_in_queries_modules() -> None:
    strays = []
    for path in python_files():
        if path.name == "queries.py":
            continue
        allowed = PLUMBING.get(path.relative_to(ROOT).as_posix(), set())
        strays += [f"{path.relative_to(ROOT)}: {what}" for what in stray_sql(path)
                   if what not in allowed]
    assert strays == []


def test_stray_sql_is_found(tmp_path: Path) -> None:
    module = tmp_path / "service.py"
    module.write_text(dedent('''
        async def count(conn, redis, table):
            """Update the count (prose, not SQL)."""
            async with redis.pipeline() as pipe:
                await pipe.execute()  # Redis: no statement
            rows = await conn.fetch(QUERY)
            return rows, f"DELETE FROM {table}"

        QUERY = """
            SELECT count(*)
            FROM members"""
    '''))
    assert sorted(stray_sql(module)) == [".fetch(", "DELETE FROM", "SELECT count(*)"]


MEDIAN_LINES = 150
MAX_LINES = 400


def module_sizes(root: Path = ROOT) -> dict[str, int]:
    """Lines per module; empty __init__.py files mark packages and are no modules to read.
    (Migrations are .sql, tests live outside these packages, vendored files under static/.)"""
    sizes = {}
    for path in python_files(root):
        lines = len(path.read_text().splitlines())
        if lines:
            sizes[path.relative_to(root).as_posix()] = lines
    return sizes


def too_long(sizes: dict[str, int]) -> dict[str, int]:
    return {path: n for path, n in sizes.items() if n > MAX_LINES}


def test_modules_stay_small() -> None:
    sizes = module_sizes()
    assert statistics.median(sizes.values()) <= MEDIAN_LINES
    assert too_long(sizes) == {}


def test_a_long_module_is_found(tmp_path: Path) -> None:
    (tmp_path / "referrals" / "deep").mkdir(parents=True)
    (tmp_path / "referrals" / "__init__.py").write_text("")
    (tmp_path / "referrals" / "deep" / "queries.py").write_text("x = 1\n" * (MAX_LINES + 1))
    sizes = module_sizes(tmp_path)
    assert sizes == {"referrals/deep/queries.py": MAX_LINES + 1}
    assert too_long(sizes) == sizes
