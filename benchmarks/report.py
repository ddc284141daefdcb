"""Write one benchmark's table into docs/benchmarks.md, replacing that section only."""

from __future__ import annotations

import datetime
import platform
import re
from pathlib import Path

import torch

HEADER = "# Benchmarks\n\nEvery number here was measured by the command above its table, in one process.\n"


def write_section(path: str, title: str, command: str, header: list[str], rows: list[list[str]],
                  note: str = "") -> None:
    """Replace (or append) the section `## title` of the markdown file at path."""
    p = Path(path)
    text = p.read_text() if p.exists() else HEADER
    machine = (f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
               f"{datetime.date.today().isoformat()}")
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    body = f"## {title}\n\n`{command}` — {machine}\n\n" + "\n".join(table) + "\n"
    if note:
        body += f"\n{note}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: body + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + body
    p.write_text(text)
