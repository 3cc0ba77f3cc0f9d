"""The generated tests whose outcome can depend on the `model` or `labels` answer, one node id a line.

The `model` answer changes one line of a project: the default of the `estimator`
setting. The name turns into a classifier only in model/estimators.py, so a
test can see the answer only if it reaches that module or code that reads the
`estimator` setting ("sources"), or names an estimator itself. This follows
every way a test reaches code:

- the package's import graph (grimp, with imports inside functions): the
  sources and every module that imports one, directly or not;
- names, per function: a test depends on the imports, module constants,
  helpers and fixtures it uses, fixtures on the fixtures they request, wherever
  pytest would find them (the module, then each conftest.py up the tree);
- code in strings: `python -c "from pkg... import ..."` and `-m pkg`;
- the DAG files: parsing them runs their module-level imports, dag.test()
  also the imports inside their tasks.

What it cannot see is project code started from a file path (a script run in
a subprocess, as test_load.py runs tests/serving/load.py): such a test is
caught only through its fixtures.

The `labels` answer changes `DEFAULT_LABELS` in settings.py, the default of
the `labels` setting. The suite's conftest.py pins that setting to the demo's
two labels (its data are two-class), so package code never sees the answer
there: a test sees it only by naming `DEFAULT_LABELS` or by building
`ModelSettings()` from its defaults, itself or through a helper or fixture.
The same walk finds those.
`python estimator_tests.py [PROJECT]`, under the project's own environment.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CODE_IMPORT = re.compile(r"(?:^|[\s;])(?:from|import)\s+([A-Za-z_][\w.]*)", re.MULTILINE)
# What loads DAG files without running them, and what runs their tasks.
PARSES_DAGS = {"DagBag"}
RUNS_DAGS = "test"
# Names through which a test reads the `labels` answer (settings.py's default).
LABEL_DEFAULTS = {"DEFAULT_LABELS", "ModelSettings"}


@dataclass
class Scope:
    """What one function (or a module's top-level code) uses: modules, names, fixtures."""

    modules: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    fixtures: set[str] = field(default_factory=set)
    parses_dags: bool = False
    runs_dags: bool = False
    names_an_answer: bool = False


@dataclass
class TestFile:
    path: Path
    module: str
    bindings: dict[str, Scope]  # every top-level name: functions, imports, constants
    fixtures: dict[str, str]  # fixture name -> the binding that defines it
    autouse: set[str]
    tests: list[tuple[str, str]]  # (node id suffix, binding)
    top_level: Scope  # what runs at import: module-level calls and decorators


def imported_names(node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str]]:
    """(bound name, dotted module or module.attribute) for one import statement."""
    for alias in node.names:
        if isinstance(node, ast.Import):
            yield (alias.asname or alias.name).split(".")[0], alias.name
        elif node.module and node.level == 0:
            yield alias.asname or alias.name, f"{node.module}.{alias.name}"


def strings_imports(node: ast.AST, package: str) -> set[str]:
    """The package modules that code held in string constants imports or runs (-m)."""
    found = set()
    for constant in ast.walk(node):
        if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
            text = constant.value
            if text == package:  # `python -m <package>`
                found.add(f"{package}.__main__")
            elif text.startswith(package + ".") and text.replace(".", "").replace("_", "").isalnum():
                found.add(text)
            found.update(m for m in CODE_IMPORT.findall(text) if m.split(".")[0] == package)
    return found


def scope_of(node: ast.AST, package: str, estimators: set[str], *, params: bool) -> Scope:
    scope = Scope()
    if params and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        scope.fixtures = {a.arg for a in arguments if a.arg not in {"self", "cls"}}
    local = {}
    for child in ast.walk(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            for name, target in imported_names(child):
                local[name] = target
                scope.modules.add(target)
        elif isinstance(child, ast.Name):
            scope.names.add(child.id)
            scope.parses_dags |= child.id in PARSES_DAGS
            scope.names_an_answer |= child.id in LABEL_DEFAULTS
        elif isinstance(child, ast.Attribute):
            scope.parses_dags |= child.attr in PARSES_DAGS
            scope.names_an_answer |= child.attr in LABEL_DEFAULTS
        elif isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
            scope.runs_dags |= child.func.attr == RUNS_DAGS
        elif isinstance(child, ast.Constant) and child.value in estimators:
            scope.names_an_answer = True
        if isinstance(child, ast.Call):
            for marker in fixture_marks(child):
                scope.fixtures.add(marker)
    scope.modules |= strings_imports(node, package)
    scope.names -= set(local)
    return scope


def fixture_marks(call: ast.Call) -> Iterator[str]:
    """Fixture names in `pytest.mark.usefixtures("a", "b")` and `request.getfixturevalue("a")`."""
    if isinstance(call.func, ast.Attribute) and call.func.attr in {"usefixtures", "getfixturevalue"}:
        for argument in call.args:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                yield argument.value


def fixture_decorator(function: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.expr | None:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (isinstance(target, ast.Attribute) and target.attr == "fixture") or (
            isinstance(target, ast.Name) and target.id == "fixture"
        ):
            return decorator
    return None


def keyword(decorator: ast.expr | None, name: str):
    if isinstance(decorator, ast.Call):
        for item in decorator.keywords:
            if item.arg == name and isinstance(item.value, ast.Constant):
                return item.value.value
    return None


def read_test_file(path: Path, root: Path, package: str, estimators: set[str]) -> TestFile:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = ".".join(path.relative_to(root).with_suffix("").parts)
    test_file = TestFile(path, module, {}, {}, set(), [], Scope())

    def function(node, qualified: str) -> None:
        test_file.bindings[qualified] = scope_of(node, package, estimators, params=True)
        decorator = fixture_decorator(node)
        if decorator is not None:
            test_file.fixtures[keyword(decorator, "name") or node.name] = qualified
            if keyword(decorator, "autouse"):
                test_file.autouse.add(keyword(decorator, "name") or node.name)
        elif node.name.startswith("test"):
            test_file.tests.append((qualified.replace(".", "::"), qualified))
        for decorator in node.decorator_list:
            decorated = scope_of(decorator, package, estimators, params=False)
            merge(test_file.bindings[qualified], decorated)

    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name, target in imported_names(node):
                test_file.bindings[name] = Scope(modules={target})
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function(node, node.name)
        elif isinstance(node, ast.ClassDef):
            # A test class: its methods see the class's own names as well.
            class_scope = scope_of(node, package, estimators, params=False)
            test_file.bindings[node.name] = class_scope
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    function(item, f"{node.name}.{item.name}")
                    test_file.bindings[f"{node.name}.{item.name}"].names.add(node.name)
        else:
            scope = scope_of(node, package, estimators, params=False)
            targets = [t for t in ast.walk(node) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)]
            for target in targets:
                test_file.bindings[target.id] = scope
            merge(test_file.top_level, scope)
            if any(t.id == "pytestmark" for t in targets):
                test_file.top_level.fixtures |= scope.fixtures
    return test_file


def merge(into: Scope, other: Scope) -> None:
    into.modules |= other.modules
    into.names |= other.names
    into.fixtures |= other.fixtures
    into.parses_dags |= other.parses_dags
    into.runs_dags |= other.runs_dags
    into.names_an_answer |= other.names_an_answer


def reads_the_setting(node: ast.AST) -> bool:
    """`settings.model.estimator` or `model.estimator`: the setting, not scikit-learn's attribute."""
    if not (isinstance(node, ast.Attribute) and node.attr == "estimator"):
        return False
    owner = node.value
    return (isinstance(owner, ast.Attribute) and owner.attr == "model") or (
        isinstance(owner, ast.Name) and owner.id == "model"
    )


def package_sources(project: Path, package: str) -> set[str]:
    """model/estimators.py and every package module that reads the `estimator` setting."""
    found = {f"{package}.model.estimators"}
    for path in sorted((project / "src" / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        reads = any(reads_the_setting(node) for node in ast.walk(tree))
        if reads:
            parts = path.relative_to(project / "src").with_suffix("").parts
            found.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def dependent_modules(project: Path, package: str) -> set[str]:
    """The sources and every package module that imports one, directly or not."""
    import grimp

    sys.path[:0] = [str(project / "src")]
    graph = grimp.build_graph(package, cache_dir=None)
    sources = package_sources(project, package)
    downstream = set(sources)
    for source in sources:
        downstream |= graph.find_downstream_modules(source)
    return downstream


def estimator_names(project: Path, package: str) -> set[str]:
    """The names in settings.py's ESTIMATORS tuple."""
    tree = ast.parse((project / "src" / package / "settings.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "ESTIMATORS" for t in targets):
                return {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
    raise SystemExit(f"settings.py of {project} has no ESTIMATORS: cannot tell the estimator names")


def dag_imports(project: Path, package: str) -> tuple[set[str], set[str]]:
    """Package modules the DAG files import when parsed, and when their tasks run too."""
    parsed, run = set(), set()
    for path in sorted((project / "dags").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                targets = {target for _, target in imported_names(node)}
                run |= targets
                if node in tree.body:
                    parsed |= targets
    return parsed, run


def reaches(target: str, dependent: set[str]) -> bool:
    """Does importing ``target`` (a module or module.attribute) load a dependent module?"""
    parts = target.split(".")
    return any(".".join(parts[:end]) in dependent for end in range(len(parts), 0, -1))


def estimator_tests(project: Path) -> list[str]:
    [package] = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").is_file()]
    dependent = dependent_modules(project, package)
    names = estimator_names(project, package)
    parsed, run = dag_imports(project, package)
    parsing_depends = any(reaches(module, dependent) for module in parsed)
    running_depends = any(reaches(module, dependent) for module in run)

    files = {
        path: read_test_file(path, project, package, names)
        for path in sorted((project / "tests").rglob("*.py"))
    }
    by_module = {test_file.module: test_file for test_file in files.values()}

    def conftests(test_file: TestFile) -> list[TestFile]:
        """The conftest.py files pytest consults for this file, nearest first."""
        found = []
        for directory in test_file.path.parents:
            conftest = files.get(directory / "conftest.py")
            if conftest is not None and conftest is not test_file:
                found.append(conftest)
            if directory == project / "tests":
                break
        return found

    def fixture_binding(test_file: TestFile, name: str, *, beyond: bool = False) -> tuple | None:
        """Where pytest finds fixture ``name`` for this file (``beyond``: a fixture overriding itself)."""
        for place in conftests(test_file) if beyond else [test_file, *conftests(test_file)]:
            if name in place.fixtures:
                return place.module, place.fixtures[name]
        return None  # a fixture of pytest or a plugin: none of them builds a classifier

    def uses(test_file: TestFile, name: str) -> Iterator[tuple[str, str] | bool]:
        """What binding ``name`` of ``test_file`` depends on: other bindings, or True at once."""
        scope = test_file.bindings[name]
        yield scope.names_an_answer
        yield scope.parses_dags and parsing_depends
        yield scope.runs_dags and running_depends
        for target in scope.modules:
            yield reaches(target, dependent)
            module, _, attribute = target.rpartition(".")
            if module in by_module and attribute in by_module[module].bindings:
                yield module, attribute  # e.g. `from tests.conftest import run_dag`
            elif target in by_module:
                yield from ((target, other) for other in by_module[target].bindings)
        for used in scope.names:
            if used != name and used in test_file.bindings:
                yield test_file.module, used
        own = next((f for f, b in test_file.fixtures.items() if b == name), None)
        for used in scope.fixtures:
            found = fixture_binding(test_file, used, beyond=used == own)
            if found is not None:
                yield found

    # A fixpoint, so that a cycle of helpers cannot hide a dependency.
    dependencies = {
        (test_file.module, name): list(uses(test_file, name))
        for test_file in files.values()
        for name in test_file.bindings
    }
    tainted = {node for node, depends in dependencies.items() if True in depends}
    changed = True
    while changed:
        changed = False
        for node, depends in dependencies.items():
            if node not in tainted and any(d in tainted for d in depends if not isinstance(d, bool)):
                tainted.add(node)
                changed = True

    def fixture(test_file: TestFile, name: str) -> bool:
        return fixture_binding(test_file, name) in tainted

    selected = []
    for path, test_file in files.items():
        # What runs for every test of the file: its imports' side effects are
        # not counted (a module does nothing until called), its top-level calls are.
        everywhere = any(
            fixture(test_file, name) for name in test_file.top_level.fixtures | test_file.autouse
        ) or any(fixture(c, name) for c in conftests(test_file) for name in c.autouse)
        for node_id, name in test_file.tests:
            if everywhere or (test_file.module, name) in tainted:
                selected.append(f"{path.relative_to(project).as_posix()}::{node_id}")
    return selected


if __name__ == "__main__":
    project = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    print("\n".join(estimator_tests(project)))
