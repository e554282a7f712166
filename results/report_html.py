"""The report page: an HTML document that needs no network (inline CSS; the interactive views'
scripts beside it or inside it) and the CSV files that hold its tables."""
import base64
import csv
import html
from pathlib import Path

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 2rem 3rem; color: #1d1d1f;
       max-width: 1500px; }
h1 { margin-top: 1.2rem; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: .2rem; margin-top: 2.4rem; }
h3 { margin-top: 1.6rem; }
nav { background: #f5f5f7; padding: .5rem 1rem; border-radius: 6px; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .85rem; }
th, td { border: 1px solid #ccc; padding: .2rem .5rem; text-align: right; vertical-align: top; }
th { background: #f0f0f3; }
td.text, th.text { text-align: left; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: .3rem; }
.scroll { overflow-x: auto; }
.pair { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.pair figure { flex: 1 1 640px; min-width: 0; }
figure { margin: .5rem 0 1rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #444; }
.note { color: #555; font-style: italic; }
.warn { color: #a00; font-weight: 600; }
.preset { display: inline-block; background: #e8f0fe; border: 1px solid #a8c0f0; border-radius: 4px;
          padding: 0 .4rem; font-size: .85rem; }
pre { background: #f7f7f9; padding: .6rem; overflow-x: auto; font-size: .8rem; border: 1px solid #e3e3e3; }
code { font-size: .85rem; }
.view { border: 1px solid #e3e3e3; margin: .5rem 0 1rem; min-height: 200px; }
.view.missing { padding: 1rem; color: #a00; }
.explorer .controls { padding: .4rem .6rem; background: #f5f5f7; font-size: .85rem; }
.explorer .controls label { margin-right: 1rem; white-space: nowrap; }
.explorer .fixed { margin-top: .3rem; }
"""


def esc(value):
    return html.escape(str(value), quote=True)


def slug(text):
    """A file name from any text: letters, digits and -_. kept, every other character _."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def write_csv(path, header, rows):
    """Writes one table as CSV (UTF-8, header first)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


class Page:
    """An HTML page built from sections, paragraphs, tables and figures."""

    def __init__(self, title, out_dir, inline_images=False):
        self.title = title
        self.out_dir = Path(out_dir)
        self.inline = inline_images
        self.toc = []
        self.body = []
        self.scripts = []  # markup at the end of the body: data blocks, then the code that reads them

    def section(self, anchor, title):
        self.toc.append((anchor, title))
        self.body.append(f'<h2 id="{esc(anchor)}">{esc(title)}</h2>')

    def heading(self, title, level=3, anchor=None):
        ident = f' id="{esc(anchor)}"' if anchor else ""
        self.body.append(f"<h{level}{ident}>{esc(title)}</h{level}>")

    def para(self, text, cls=None):
        self.body.append(f'<p class="{cls}">{esc(text)}</p>' if cls else f"<p>{esc(text)}</p>")

    def raw(self, markup):
        """Markup built by the caller from escaped parts."""
        self.body.append(markup)

    def pre(self, text):
        self.body.append(f"<pre>{esc(text)}</pre>")

    def details(self, summary, text):
        self.body.append(f"<details><summary>{esc(summary)}</summary><pre>{esc(text)}</pre></details>")

    def table(self, header, rows, caption=None, text_columns=(), header_rows=None, csv_name=None):
        """A table; `header_rows` (pre-escaped <tr> markup) replaces the one-line header when given."""
        parts = ['<div class="scroll"><table>']
        if caption or csv_name:
            link = f' <a href="{esc(csv_name)}">(CSV)</a>' if csv_name else ""
            parts.append(f"<caption>{esc(caption or '')}{link}</caption>")
        if header_rows:
            parts.append("<thead>" + "".join(header_rows) + "</thead>")
        else:
            parts.append("<thead><tr>" + "".join(
                f'<th class="{"text" if i in text_columns else ""}">{esc(h)}</th>' for i, h in enumerate(header))
                + "</tr></thead>")
        parts.append("<tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(
                f'<td class="{"text" if i in text_columns else ""}">{esc(v)}</td>' for i, v in enumerate(row))
                + "</tr>")
        parts.append("</tbody></table></div>")
        self.body.append("".join(parts))

    def _img(self, rel_path, alt):
        if self.inline:
            data = base64.b64encode((self.out_dir / rel_path).read_bytes()).decode("ascii")
            src = f"data:image/png;base64,{data}"
        else:
            src = rel_path
        return f'<img src="{esc(src)}" alt="{esc(alt)}" loading="eager">'

    def figure_markup(self, rel_path, caption):
        if rel_path is None:
            return f'<figure><p class="note">{esc(caption)}</p></figure>'
        return f"<figure>{self._img(rel_path, caption)}<figcaption>{esc(caption)}</figcaption></figure>"

    def figure(self, rel_path, caption):
        self.body.append(self.figure_markup(rel_path, caption))

    def pair(self, items):
        """Figures side by side: `items` is a list of (rel_path or None, caption)."""
        self.body.append('<div class="pair">' + "".join(self.figure_markup(p, c) for p, c in items) + "</div>")

    def script(self, markup):
        """A <script> element (built by the caller) placed after the content."""
        self.scripts.append(markup)

    def render(self):
        nav = " ".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in self.toc)
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{esc(self.title)}</title><style>{STYLE}</style></head><body>"
                f"<h1>{esc(self.title)}</h1><nav>{nav}</nav>\n" + "\n".join(self.body) + "\n"
                + "\n".join(self.scripts) + "\n</body></html>\n")
