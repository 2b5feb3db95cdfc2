#!/usr/bin/env python3
r"""mdBook preprocessor: hands the book's math to mdbook-katex as KaTeX expects it.

The chapters write math for a Markdown renderer, as MathJax in the browser needed it: inline
`\\( ... \\)`, display `\\[ ... \\]`, and inside them Markdown's backslash escapes (`\_` for a
subscript, `\\\\` for a new row, `\\,` for a thin space). KaTeX renders at build time, before
Markdown removes those escapes, so this step removes them inside math (outside code) and writes
the delimiters as `\( \)` and `\[ \]`, which book.toml gives mdbook-katex. KaTeX receives
exactly the TeX that MathJax received.

mdBook runs it from book/ (see book.toml); it needs only Python 3.
"""
import json
import re
import sys

# CommonMark: a backslash before ASCII punctuation stands for that character.
ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
MATH = re.compile(r"\\\\\((.*?)\\\\\)|\\\\\[(.*?)\\\\\]", re.S)
INLINE_CODE = re.compile(r"(`+).*?\1", re.S)


def unescape(tex):
    return ESCAPE.sub(r"\1", tex)


def convert_math(text):
    def one(m):
        if m.group(1) is not None:
            return "\\(" + unescape(m.group(1)) + "\\)"
        return "\\[" + unescape(m.group(2)) + "\\]"

    return MATH.sub(one, text)


def convert_prose(text):
    """Converts math in text that has no fenced code, leaving inline code spans alone."""
    out, last = [], 0
    for m in INLINE_CODE.finditer(text):
        out.append(convert_math(text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(convert_math(text[last:]))
    return "".join(out)


def convert(content):
    out, prose, fence = [], [], None
    for line in content.splitlines(keepends=True):
        stripped = line.lstrip()
        if fence is None and (stripped.startswith("```") or stripped.startswith("~~~")):
            out.append(convert_prose("".join(prose)))
            prose = []
            fence = stripped[:3]
            out.append(line)
        elif fence is not None:
            out.append(line)
            if stripped.startswith(fence):
                fence = None
        else:
            prose.append(line)
    out.append(convert_prose("".join(prose)))
    return "".join(out)


def walk(items):
    for item in items:
        if isinstance(item, dict) and "Chapter" in item:
            chapter = item["Chapter"]
            chapter["content"] = convert(chapter["content"])
            walk(chapter["sub_items"])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "supports":
        sys.exit(0)
    _context, book = json.load(sys.stdin)
    walk(book.get("sections") or book.get("items") or [])
    json.dump(book, sys.stdout)


if __name__ == "__main__":
    main()
