"""What a video's script says, read with a real parser (tree-sitter): its imports, acting comments and strings.

Regexes over source text were fooled by strings and comments (an import inside a string, a string whose quote
ends a match early); a parser knows where each string starts and ends.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

import tree_sitter_typescript
from tree_sitter import Language, Node, Parser


@dataclass(frozen=True)
class Import:
    """A module the script names: `import`, `export ... from`, `import()`, `require()`, `import x = require()`."""

    specifier: str
    line: int
    type_only: bool = False


@dataclass(frozen=True)
class Literal:
    """A string's value (of a template, its text before the first `${}`), and the prop it is given to, if any."""

    value: str
    line: int
    prop: str | None = None  # "<Element> attribute" for JSX, "{key}" for an object's property


@dataclass
class Script:
    imports: list[Import] = field(default_factory=list)
    # What reaches past the checks: a folder read, a computed import, an acting comment (message kind, line).
    dynamic: list[tuple[str, int]] = field(default_factory=list)
    comments: list[tuple[str, int]] = field(default_factory=list)
    static_files: list[tuple[str, int]] = field(default_factory=list)
    literals: list[Literal] = field(default_factory=list)
    has_errors: bool = False


# Comments that act: webpack's, which leaves an import for the browser to fetch, and TypeScript's
# triple-slash directives, which make the typecheck read any file.
_ACTING_COMMENT = re.compile(r"webpackIgnore|@vite-ignore|^///\s*<(?:reference|amd-dependency|amd-module)\b")
# Where a dynamic import() names a type, not a module to bundle: `typeof import('x')`.
_TYPE_NODES = {"type_annotation", "type_query", "type_alias_declaration", "interface_declaration", "type_arguments"}
# Used only inside parse errors, where the tree does not say what is an import.
_FALLBACK = re.compile(
    r"""(?:^|[\s;}])(?:import|export)\s[^'"`;]*?\sfrom\s*(['"])(?P<a>[^'"]+)\1"""
    r"""|(?:^|[\s;])import\s*(['"])(?P<b>[^'"]+)\3"""
    r"""|\b(?:import|require)\s*\(\s*(['"])(?P<c>[^'"]+)\5\s*\)""",
    re.MULTILINE,
)
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{1,3}|\r\n|[\s\S])")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}


@cache
def _parser(tsx: bool) -> Parser:
    grammar = tree_sitter_typescript.language_tsx() if tsx else tree_sitter_typescript.language_typescript()
    return Parser(Language(grammar))


def parse(text: str, suffix: str) -> Script:
    """The imports, acting comments, staticFile names and strings of one script (.ts with the TypeScript grammar, else TSX)."""
    source = text.encode("utf-8", errors="surrogatepass")
    tree = _parser(suffix != ".ts").parse(source)
    script = Script(has_errors=tree.root_node.has_error)
    # An explicit stack, not recursion: a hostile file may nest thousands deep.
    stack: list[tuple[Node, str | None, bool]] = [(tree.root_node, None, False)]
    while stack:
        node, prop, in_type = stack.pop()
        kind = node.type
        if kind == "ERROR":
            script.imports.extend(_fallback(node))
        elif kind == "comment":
            _comment(script, node)
        elif kind in ("import_statement", "export_statement"):
            _statement(script, node)
        elif kind == "call_expression":
            _call(script, node, in_type)
        elif kind == "jsx_attribute":
            prop = _attribute(node)
        elif kind == "pair":
            key = node.child_by_field_name("key")
            prop = "{" + _text(key) + "}" if key is not None else prop
        elif kind == "string":
            script.literals.append(Literal(_string_value(node), _line(node), prop))
            continue
        elif kind == "template_string":
            script.literals.append(Literal(_template_prefix(node), _line(node), prop))
        in_type = in_type or kind in _TYPE_NODES
        stack.extend((child, prop, in_type) for child in reversed(node.children))
    # A fallback inside a parse error may find again what the tree found.
    script.imports = sorted(dict.fromkeys(script.imports), key=lambda found: found.line)
    return script


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def _line(node: Node) -> int:
    return node.start_point.row + 1


def _comment(script: Script, node: Node) -> None:
    found = _ACTING_COMMENT.search(_text(node))
    if found:
        script.comments.append((found[0].strip(), _line(node)))


def _statement(script: Script, node: Node) -> None:
    """An import or export statement's module: `import type` and `export type` count like any other."""
    type_only = any(child.type == "type" for child in node.children)
    source = node.child_by_field_name("source")
    if source is None:  # import x = require('y')
        clause = next((child for child in node.children if child.type == "import_require_clause"), None)
        source = next((child for child in clause.children if child.type == "string"), None) if clause else None
    if source is not None and source.type == "string":
        script.imports.append(Import(_string_value(source), _line(source), type_only))


def _call(script: Script, node: Node, in_type: bool) -> None:
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    if function is None or arguments is None:
        return
    name = re.sub(r"\s+", "", _text(function))
    if name in ("require.context", "import.meta.webpackContext"):
        script.dynamic.append(("context", _line(node)))
        return
    if function.type != "import" and name not in ("require", "require.resolve", "require.resolveWeak", "staticFile"):
        return
    first = next((child for child in arguments.named_children if child.type != "comment"), None)
    value = _static_value(first)
    if name == "staticFile":
        if value is not None:
            script.static_files.append((value, _line(node)))
    elif value is None:
        script.dynamic.append(("computed", _line(node)))
    else:
        script.imports.append(Import(value, _line(first or node), in_type))


def _static_value(node: Node | None) -> str | None:
    """A string's value, or a template's without substitutions; None for anything computed."""
    if node is None:
        return None
    if node.type == "string":
        return _string_value(node)
    if node.type == "template_string" and not any(child.type == "template_substitution" for child in node.children):
        return _template_prefix(node)
    return None


def _attribute(node: Node) -> str | None:
    element = node.parent
    name = element.child_by_field_name("name") if element is not None else None
    attribute = node.named_children[0] if node.named_children else None
    if name is None or attribute is None:
        return None
    return f"<{_text(name)}> {_text(attribute)}"


def _string_value(node: Node) -> str:
    raw = _text(node)[1:-1]
    # JSX attribute strings decode HTML entities, not backslash escapes.
    if node.parent is not None and node.parent.type == "jsx_attribute":
        return html.unescape(raw)
    return _unescape(raw)


def _template_prefix(node: Node) -> str:
    parts = []
    for child in node.children:
        if child.type == "template_substitution":
            break
        if child.type in ("string_fragment", "escape_sequence"):
            parts.append(_text(child))
    return _unescape("".join(parts))


def _unescape(raw: str) -> str:
    """A JavaScript string's escapes decoded, so `'\\x64ata:'` reads as the `data:` it is."""

    def one(match: re.Match[str]) -> str:
        escape = match[1]
        if escape[0] == "u":
            code = int(escape[2:-1] if escape[1] == "{" else escape[1:], 16)
            return chr(code) if code <= 0x10FFFF else ""
        if escape[0] == "x":
            return chr(int(escape[1:], 16))
        if escape[0] in "01234567":
            return chr(int(escape, 8))
        if escape in ("\n", "\r", "\r\n", "\u2028", "\u2029"):
            return ""  # a line continuation
        return _SIMPLE_ESCAPES.get(escape, escape)

    return _ESCAPE.sub(one, raw)


def _fallback(node: Node) -> Iterator[Import]:
    """Imports a regex finds in a stretch the parser could not read, so a syntax error hides none."""
    text = _text(node)
    for match in _FALLBACK.finditer(text):
        group = "a" if match["a"] else "b" if match["b"] else "c"
        yield Import(match[group], _line(node) + text.count("\n", 0, match.start(group)))
