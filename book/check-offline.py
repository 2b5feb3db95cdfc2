#!/usr/bin/env python3
"""Checks that the built book (book/book/, from `mdbook build book`) is self-contained.

The rule: a page may *link* to another site (an <a href="https://..."> to a cited page, which
the reader follows or not), but nothing a page *loads* may come from another host: no src=
(scripts, images, frames, media), no <link href=> (stylesheets, fonts, icons, preloads), no
CSS url() or @import, pointing at http://, https:// or a protocol-relative //host; and every
local file that a linked stylesheet loads (KaTeX's fonts) must exist. A last
rule catches math that was not rendered: a \\( or \\[ left in a page outside <code> and <pre>
means a formula that KaTeX did not turn into HTML and that no script will render any more.

Usage: python3 book/check-offline.py   (exits 1 listing every problem; book/check-links.sh
runs it after the link checks)
"""
import re
import sys
from pathlib import Path

BUILT = Path(__file__).resolve().parent / "book"
REMOTE = r"""(?:https?:)?//[^"'\s)]+"""
LOADS = [
    ("src=", re.compile(r"""\bsrc\s*=\s*["']?(""" + REMOTE + ")", re.I)),
    ("srcset=", re.compile(r"""\bsrcset\s*=\s*["'][^"']*?(""" + REMOTE + ")", re.I)),
    ("<link href=", re.compile(r"""<link\b[^>]*\bhref\s*=\s*["']?(""" + REMOTE + ")", re.I)),
    ("url()", re.compile(r"""url\(\s*["']?(""" + REMOTE + ")", re.I)),
    ("@import", re.compile(r"""@import\s+(?:url\()?\s*["']?(""" + REMOTE + ")", re.I)),
]
CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.S | re.I)
STYLESHEET = re.compile(r"""<link\b[^>]*\brel\s*=\s*["']?stylesheet[^>]*>""", re.I)
HREF = re.compile(r"""\bhref\s*=\s*["']([^"']+)["']""", re.I)
LOCAL_URL = re.compile(r"""url\(\s*["']?([^"')]+)""", re.I)
RAW_MATH = re.compile(r"\\[(\[]")


def main():
    if not BUILT.is_dir():
        print(f"check-offline: {BUILT} does not exist; run `mdbook build book` first",
              file=sys.stderr)
        return 1
    problems = []
    stylesheets = set()
    for path in sorted(BUILT.rglob("*")):
        if path.suffix not in (".html", ".css", ".js") or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        rel = path.relative_to(BUILT)
        for what, pattern in LOADS:
            for m in pattern.finditer(text):
                problems.append(f"{rel}: {what} loads {m.group(1)}")
        if path.suffix == ".html":
            for link in STYLESHEET.findall(text):
                m = HREF.search(link)
                if m and not re.match(REMOTE, m.group(1)):
                    stylesheets.add((path.parent / m.group(1).split("?")[0]).resolve())
        if path.suffix == ".html" and path.name not in ("print.html", "toc.html"):
            prose = CODE.sub("", text)
            # Scripts that mdBook ships may contain the characters; only page content counts.
            prose = re.sub(r"<script\b.*?</script>", "", prose, flags=re.S | re.I)
            for m in RAW_MATH.finditer(prose):
                context = prose[max(0, m.start() - 30) : m.end() + 30].replace("\n", " ")
                problems.append(f"{rel}: unrendered math near '{context}'")
    # What a linked stylesheet loads (fonts, images) must be there: offline, nothing falls back.
    for css in sorted(stylesheets):
        rel = css.relative_to(BUILT) if css.is_relative_to(BUILT) else css
        if not css.is_file():
            problems.append(f"{rel}: linked stylesheet missing")
            continue
        for m in LOCAL_URL.finditer(css.read_text(errors="replace")):
            target = m.group(1).split("?")[0].split("#")[0]
            if re.match(REMOTE, target) or target.startswith("data:"):
                continue
            if not (css.parent / target).resolve().is_file():
                problems.append(f"{rel}: url({target}) does not exist")
    for p in problems:
        print("check-offline:", p, file=sys.stderr)
    if problems:
        return 1
    print("check-offline: no built page loads anything from another host, and all math is "
          "rendered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
