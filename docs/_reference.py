"""A mkdocs hook for the API reference.

- ``<!-- summary -->`` becomes a table of the page's entries (one row per ``::: identifier``
  line, in page order, under the page's section headings), each linked to its entry and
  summarised by the first sentence of its docstring;
- ``<!-- cli: COMMAND -->`` becomes the help text of ``jaxneuron COMMAND`` (``<!-- cli -->``:
  of ``jaxneuron`` itself), as the command line prints it without colours.
"""

from __future__ import annotations

import re

import griffe

_DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$")
_SECTION = re.compile(r"^## (.+?)\s*$")
_CLI = re.compile(r"^<!-- cli(?:: (\w+))? -->$", re.M)
_SUMMARY = "<!-- summary -->"
_packages: dict[str, griffe.Object] = {}


def _object(path: str):
    package = path.split(".")[0]
    if package not in _packages:
        # the same extensions as the reference's entries (mkdocs.yml)
        extensions = griffe.load_extensions(
            "docs/_attribute_comments.py:AttributeComments",
            "docs/_doctest_fences.py:DoctestFences",
        )
        _packages[package] = griffe.load(package, search_paths=["."], extensions=extensions)
    obj = _packages[package]
    for part in path.split(".")[1:]:
        obj = obj.members[part]
    return obj


def summary(path: str) -> str:
    """The first sentence of the docstring of ``path`` on one line; empty without one."""
    docstring = _object(path).docstring
    if docstring is None:
        return ""
    paragraph = docstring.value.strip().split("\n\n")[0]
    text = " ".join(line.strip() for line in paragraph.splitlines())
    end = re.search(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bet al)(?<!\bvs)\.(\s|$)", text)
    sentence = text[: end.start() + 1] if end else text
    if sentence.endswith((":", ",")):  # the sentence goes on in a formula or a list
        sentence = sentence[:-1] + " …"
    return sentence.replace("|", "\\|")


def table(markdown: str) -> str:
    """The summary table of a page."""
    rows = ["| Name | Summary |", "|---|---|"]
    for line in markdown.splitlines():
        if section := _SECTION.match(line):
            rows.append(f"| **{section.group(1)}** | |")
        elif directive := _DIRECTIVE.match(line):
            path = directive.group(1)
            name = path.rsplit(".", 1)[-1]
            rows.append(f"| [`{name}`][{path}] | {summary(path)} |")
    return "\n".join(rows)


def cli_help(command: str | None) -> str:
    """``jaxneuron [command] --help`` in click's plain layout (typer's rich boxes are for
    terminals)."""
    import click
    import typer.main

    from jaxneuron.cli import app

    group = typer.main.get_command(app)
    context = click.Context(group, info_name="jaxneuron", terminal_width=76)
    formatter = click.HelpFormatter(width=76)
    if command is None:
        click.Group.format_help(group, context, formatter)
    else:
        sub = group.commands[command]
        sub_context = click.Context(sub, info_name=command, parent=context)
        click.Command.format_help(sub, sub_context, formatter)
    return "```text\n" + formatter.getvalue().rstrip() + "\n```"


def on_page_markdown(markdown: str, **kwargs) -> str:
    if _SUMMARY in markdown:
        markdown = markdown.replace(_SUMMARY, table(markdown))
    return _CLI.sub(lambda match: cli_help(match.group(1)), markdown)
