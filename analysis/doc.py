# SPDX-License-Identifier: Apache-2.0
"""A tiny document model rendered to both Markdown and self-contained HTML.

The report is built once as a list of blocks; the two renderers cannot drift apart.  Inline markup
is limited to **bold** and `code`, which both renderers understand.
"""

from __future__ import annotations

import base64
import html
import os
import re
from dataclasses import dataclass, field


@dataclass
class Block:
    kind: str                      # h1 h2 h3 p ul table fig toc
    text: str = ""
    items: list = field(default_factory=list)
    header: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    fig: object = None
    cls: str = ""                  # HTML class of a p or ul ("lead", "warn", "verdicts")


class Doc:
    def __init__(self):
        self.blocks: list[Block] = []

    def h1(self, t): self.blocks.append(Block("h1", t))
    def h2(self, t): self.blocks.append(Block("h2", t))
    def h3(self, t): self.blocks.append(Block("h3", t))
    def p(self, t, cls=""): self.blocks.append(Block("p", t, cls=cls))
    def ul(self, items, cls=""): self.blocks.append(Block("ul", items=list(items), cls=cls))
    def table(self, header, rows): self.blocks.append(Block("table", header=list(header), rows=[list(r) for r in rows]))
    def fig(self, f): self.blocks.append(Block("fig", fig=f))
    def toc(self): self.blocks.append(Block("toc"))   # HTML: the list of sections, here


def _md_cell(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Doc, base_dir: str) -> str:
    out = []
    for b in doc.blocks:
        if b.kind == "toc":
            continue
        if b.kind in ("h1", "h2", "h3"):
            out.append("#" * int(b.kind[1]) + " " + b.text)
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "ul":
            out.append("\n".join(f"- {it}" for it in b.items))
        elif b.kind == "table":
            lines = ["| " + " | ".join(_md_cell(h) for h in b.header) + " |",
                     "|" + "|".join("---" for _ in b.header) + "|"]
            lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b.rows]
            out.append("\n".join(lines))
        elif b.kind == "fig":
            rel = os.path.relpath(b.fig.png, base_dir)
            out.append(f"**{b.fig.title}**\n\n![{b.fig.title}]({rel})\n\n{b.fig.caption}")
    return "\n\n".join(out) + "\n"


def _inline_html(s: str) -> str:
    s = html.escape(str(s), quote=False)
    s = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", s)
    s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
    return s


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45;font-size:15px}
h1{font-size:1.6em;border-bottom:2px solid #444;padding-bottom:.2em}
h2{font-size:1.3em;margin-top:1.8em;border-bottom:1px solid #bbb}
h3{font-size:1.08em;margin-top:1.3em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
tr:nth-child(even) td{background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code{background:#f3f3f3;padding:0 3px;border-radius:3px;font-size:90%;white-space:nowrap}
figure{margin:1em 0 2em}
figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:13px;color:#444;margin-top:.3em}
nav{background:#f6f6f6;border:1px solid #ddd;padding:.4em 1em;font-size:14px}
td.worse{color:#a40000;font-weight:bold}
td.better{color:#006100;font-weight:bold}
p.lead{font-size:14px;color:#333;margin:.2em 0 .6em}
p.warn{background:#fff3cd;border:1px solid #e0c060;padding:.4em .8em;margin:.6em 0}
ul.verdicts li{margin:.35em 0}
"""

_NUM = re.compile(r"^([-+]?[\d,.]+(×|%)?( \[[^\]]*\])?|[\d,.]+/[\d,.]+|1 \(reference\)|–)$")


def to_html(doc: Doc, title: str) -> str:
    toc = [b for b in doc.blocks if b.kind == "h2"]
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title>", f"<style>{CSS}</style></head><body>"]
    for b in doc.blocks:
        if b.kind == "toc":
            if toc:
                out.append("<nav><b>Contents:</b> " + " · ".join(
                    f'<a href="#{_slug(t.text)}">{_inline_html(t.text)}</a>' for t in toc) + "</nav>")
            continue
        if b.kind in ("h1", "h2", "h3"):
            out.append(f'<{b.kind} id="{_slug(b.text)}">{_inline_html(b.text)}</{b.kind}>')
        elif b.kind == "p":
            cls = f' class="{b.cls}"' if b.cls else ""
            out.append(f"<p{cls}>{_inline_html(b.text)}</p>")
        elif b.kind == "ul":
            cls = f' class="{b.cls}"' if b.cls else ""
            out.append(f"<ul{cls}>" + "".join(f"<li>{_inline_html(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            rows = ["<tr>" + "".join(f"<th>{_inline_html(h)}</th>" for h in b.header) + "</tr>"]
            for r in b.rows:
                cells = []
                for c in r:
                    text = str(c)
                    cls = ' class="num"' if len(b.header) > 2 and _NUM.match(text) else ""
                    if text == "worse" or text.endswith("(worse)"):
                        cls = ' class="worse"'
                    elif text == "better" or text.endswith("(better)"):
                        cls = ' class="better"'
                    cells.append(f"<td{cls}>{_inline_html(c)}</td>")
                rows.append("<tr>" + "".join(cells) + "</tr>")
            out.append("<table>" + "\n".join(rows) + "</table>")
        elif b.kind == "fig":
            with open(b.fig.png, "rb") as f:
                data = base64.b64encode(f.read()).decode("ascii")
            out.append(f'<figure><b>{_inline_html(b.fig.title)}</b><br>'
                       f'<img alt="{html.escape(b.fig.title)}" src="data:image/png;base64,{data}">'
                       f"<figcaption>{_inline_html(b.fig.caption)}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
