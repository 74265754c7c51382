"""Which names a cell binds and reads, known from its source alone.

Blame for a failing course cell is placed from what the sandbox reports (where the error was raised, which
name was missing) and from these facts, which the host computes from the program it assembled itself.
"""

import ast
from dataclasses import dataclass

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class CellNames:
    binds: frozenset[str]  # names the cell assigns, defines or imports at its top level
    reads: frozenset[str]  # names it loads anywhere, functions it defines included


def cell_names(source: str) -> CellNames:
    """A cell that is not valid Python binds and reads nothing: it fails before it could."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return CellNames(frozenset(), frozenset())
    reads = {
        node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    return CellNames(frozenset(_top_level_bindings(tree)), frozenset(reads))


def _top_level_bindings(tree: ast.AST) -> set[str]:
    bound: set[str] = set()
    pending = list(ast.iter_child_nodes(tree))
    while pending:
        node = pending.pop()
        if isinstance(node, _SCOPES):
            if not isinstance(node, ast.Lambda):
                bound.add(node.name)
            continue  # names bound inside a function or class body are not the notebook's
        if isinstance(node, _COMPREHENSIONS):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name.partition(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        pending.extend(ast.iter_child_nodes(node))
    return bound
