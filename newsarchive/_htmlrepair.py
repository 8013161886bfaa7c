"""trafilatura's repair of faulty HTML strings (``trafilatura.utils.repair_faulty_html``), at a fraction
of its cost on the pages that need no repair: nearly all of them.

Why: trafilatura removes the characters libxml2 rejects with a regular expression substitution over the
whole document, which scans it one character at a time in the regex engine (about 1.4 ms for a 170 kB
page, a tenth of the parse). Here each such character is first looked for with ``str.__contains__`` (a
``memchr``-style search in C, about 0.3 ms for all 31 of them); the substitution runs only on a page
that holds one. Likewise a doctype line that needs no repair leaves the string as it is, where
trafilatura splits the document and joins it again. The result is the same string in every case:
``tests/test_extraction_parse.py`` checks it against trafilatura's function on crafted inputs, so a
change in trafilatura's repair shows up there.
"""

from __future__ import annotations

import re

#: Characters libxml2 refuses, as trafilatura's ``INVALID_XML_CHARS`` lists them: C0 controls other
#: than tab, line feed and carriage return, and the non-characters U+FFFE and U+FFFF.
INVALID_XML_CHARACTERS: tuple[str, ...] = (
    *(chr(code) for code in range(0x20) if code not in (0x09, 0x0A, 0x0D)), "\ufffe", "\uffff")
_INVALID_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # the same characters
_DOCTYPE_TAG = re.compile("^< ?! ?DOCTYPE[^>]*/[^<>]*>", re.IGNORECASE)
_FAULTY_HTML = re.compile(r"(<html.*?)\s*/>", re.IGNORECASE)


def repair_html(html: str, beginning: str) -> str:
    """What ``trafilatura.utils.repair_faulty_html(html, beginning)`` returns (``beginning`` is
    ``html[:50].lower()``, as ``load_html`` passes it)."""
    if any(char in html for char in INVALID_XML_CHARACTERS):
        html = _INVALID_XML.sub("", html)
    if "doctype" in beginning:  # a self-closing doctype (libxml2 bug 1955915) loses its closing slash part
        firstline, newline, rest = html.partition("\n")
        repaired = _DOCTYPE_TAG.sub("", firstline, count=1)
        if repaired != firstline:
            html = repaired + "\n" + rest
        elif not newline:  # trafilatura joins the parts with a line feed even when there was none
            html += "\n"
    for line in html[:4096].splitlines()[:4]:  # a self-closing <html/> in the first lines
        if "<html" in line and line.endswith("/>"):
            html = _FAULTY_HTML.sub(r"\1>", html, count=1)
            break
    return html
