"""Self-contained HTML pages: escaping, one style sheet, tables, inline pictures and SVG timelines.

Pages hold no script and load nothing: pictures are `data:` URIs, timelines inline SVG, and a Content
Security Policy forbids scripts and network loads, so a page reads offline and a name taken from the
inputs (a video called `<script>...`) is only ever text. Every value from outside goes through `esc`.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any

# Matplotlib's tab10, as in timeline.png: one class looks the same in every picture.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
OTHER_COLOUR = "#d3d3d3"  # the unknown label, and anything else that is not a class
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#23395d;color:#fff;padding:14px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}main{padding:18px 28px;max-width:1180px}
h2{font-size:18px;margin:26px 0 10px}section.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;
padding:14px 16px;margin:12px 0}table{border-collapse:collapse;margin:6px 0}th,td{padding:4px 10px;
border-bottom:1px solid #e5e8eb;text-align:left;vertical-align:top}th{background:#eef1f4;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}.person{display:flex;gap:16px;align-items:flex-start}
.person img.thumb{height:160px;border-radius:6px;border:1px solid #ccd}.facts td:first-child{color:#556}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;
margin-right:5px;vertical-align:-1px;border-radius:2px}svg.strip{width:100%;height:22px;display:block;
background:#f0f2f4;border-radius:3px}.raises{display:flex;flex-wrap:wrap;gap:10px}.raises figure{margin:0}
.raises figcaption{font-size:13px;color:#556}.note{color:#556;font-size:13px}img.plot{max-width:100%}
section.card h2{margin-top:0}table.overview{width:100%}table.overview td:last-child{width:88%}
.person>div{flex:1}
"""


class Raw(str):
    """HTML that is already safe (built here from escaped parts); `esc` leaves it as it is."""


def esc(value: Any) -> str:
    """Text for HTML (element content and quoted attributes): `<`, `>`, `&` and quotes escaped."""
    return value if isinstance(value, Raw) else html.escape(str(value), quote=True)


def page(title: str, heading: str, subtitle: str, body: Iterable[str]) -> str:
    """A whole page: head with style and policy, a header, and `body` (already safe HTML parts)."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{esc(title)}</title>'
            f"<style>{_CSS}</style></head>\n<body><header><h1>{esc(heading)}</h1><p>{esc(subtitle)}</p></header>"
            f"<main>\n{''.join(body)}\n</main></body></html>\n")


def table(headers: Sequence[str] | None, rows: Iterable[Sequence[Any]], cls: str = "", numeric: Sequence[int] = ()) -> Raw:
    """A table (no header row when `headers` is None); cells are escaped unless `Raw`; columns in `numeric`
    are right-aligned."""
    head = f"<thead><tr>{''.join(f'<th>{esc(h)}</th>' for h in headers)}</tr></thead>" if headers else ""
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{esc(c)}</td>'
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return Raw(f'<table class="{esc(cls)}">{head}<tbody>{body}</tbody></table>')


def image(data: bytes, mime: str, alt: str, cls: str = "") -> Raw:
    """An inline picture (`data:` URI): the page needs no other file."""
    encoded = base64.b64encode(data).decode("ascii")
    return Raw(f'<img class="{esc(cls)}" alt="{esc(alt)}" src="data:{esc(mime)};base64,{encoded}">')


def class_colours(classes: Sequence[str]) -> dict[str, str]:
    """A fixed colour per class from its position."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(classes)}


def legend(colours: dict[str, str], others: Iterable[str] = ()) -> Raw:
    """Colour keys of every class, then of other labels (grey)."""
    items = [*colours.items(), *((o, OTHER_COLOUR) for o in others)]
    return Raw('<p class="legend">' + "".join(f'<span><i style="background:{c}"></i>{esc(n)}</span>'
                                              for n, c in items) + "</p>")


def strip(spans: Iterable[tuple[float, float, str, float]], duration_s: float, colours: dict[str, str]) -> Raw:
    """One person's timeline as SVG: a bar per (start, end, action, confidence), hover text per bar."""
    width = max(duration_s, 1e-6)
    bars = []
    for start, end, action, confidence in spans:
        colour = colours.get(action, OTHER_COLOUR)
        tip = f"{action} {start:.1f}-{end:.1f} s (confidence {confidence:.2f})"
        bars.append(f'<rect x="{start:.3f}" y="0" width="{max(end - start, 0):.3f}" height="1" fill="{colour}" '
                    f'data-action="{esc(action)}"><title>{esc(tip)}</title></rect>')
    return Raw(f'<svg class="strip" viewBox="0 0 {width:.3f} 1" preserveAspectRatio="none" role="img" '
               f'aria-label="timeline">{"".join(bars)}</svg>')


def seconds(value: float) -> str:
    """`75.3` -> `1:15`; under a minute `42.0 s`."""
    return f"{int(value // 60)}:{int(value % 60):02d}" if value >= 60 else f"{value:.1f} s"
