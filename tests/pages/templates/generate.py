"""Regenerate the template sites: ``python tests/pages/templates/generate.py``.

Two div-soup sites of 7 articles each, same widgets on every page, distinct article texts (built
from word lists with a fixed seed), and one paragraph quoted by exactly two articles. ``site.json``
in each folder lists each page's body paragraphs and the widget strings that must not be in it.
"""

from __future__ import annotations

import html
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_PAGES = 7
QUOTED = (
    "\"We will not accept a deal that leaves the harbour towns without a ferry link through the winter,\" "
    "the regional council said in a statement published on Monday evening."
)
QUOTED_IN = (2, 5)

SUBJECTS = ["The regional council", "Local farmers", "The transport ministry", "A group of researchers",
            "The city's mayor", "Union representatives", "The port authority", "Independent auditors",
            "Residents of the northern district", "The school board", "Hospital managers", "The energy regulator"]
VERBS = ["announced plans to review", "raised concerns about", "voted to postpone", "published a report on",
         "called for an inquiry into", "agreed to fund", "questioned the cost of", "proposed changes to"]
OBJECTS = ["the new ferry timetable", "the harbour expansion", "rising water prices", "the rail link to the coast",
           "the closure of two rural clinics", "next year's school budget", "the wind farm near the bay",
           "the bridge repairs", "the fishing quotas", "the housing scheme on the old airfield"]
TAILS = ["after weeks of public debate", "despite objections from the opposition", "ahead of the spring session",
         "following a sharp rise in complaints", "at a meeting that lasted late into the night",
         "citing figures from the latest census", "in a move welcomed by business groups"]
DETAILS = ["Officials said a final decision was expected before the end of the year.",
           "Critics argued that the figures had been published too late for a proper review.",
           "Several speakers pointed to similar projects that had run over budget.",
           "A spokesperson declined to give a timetable but promised regular updates.",
           "Campaigners said they would continue to monitor the process closely.",
           "The proposal still needs the approval of the national government.",
           "Opinion polls suggest that most residents support the change."]


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}."


def paragraph(rng: random.Random, n: int, i: int) -> str:
    lead = f"In its {['first', 'second', 'third', 'fourth', 'fifth'][i]} session this month (report {n}-{i}),"
    return " ".join([lead, sentence(rng).lower(), sentence(rng), rng.choice(DETAILS), sentence(rng)])


def articles() -> list[dict[str, object]]:
    rng = random.Random(20240611)
    out = []
    for n in range(1, N_PAGES + 1):
        paras = [paragraph(rng, n, i) for i in range(rng.randint(4, 5))]
        if n in QUOTED_IN:
            paras.insert(2, QUOTED)
        title = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} (part {n})"
        tags = rng.sample(["ferries", "harbour", "budget", "council", "energy", "transport", "housing", "health"], 4)
        out.append({"n": n, "title": title, "paragraphs": paras, "tags": tags,
                    "caption": f"A view of the harbour from the old lighthouse, photographed on day {n} of the session",
                    "author": ["Jane Roe", "Tomas Berg"][n % 2]})
    return out


def divsoup(a: dict[str, object]) -> str:
    """The seed's div-soup layout (sputnik-article-divsoup.html) with another article in it."""
    e = html.escape
    paras = list(a["paragraphs"])  # type: ignore[arg-type]
    body = []
    for i, p in enumerate(paras):
        body.append(f'<div class="txt">{e(p)}</div>')
        if i == 1:
            body.append('<div class="inject"><div class="inject__label">Related:</div>'
                        f'<a class="inject__link" href="/x/{a["n"]}/">Harbour towns brace for a long winter</a></div>')
    tags = ", ".join(f'<a href="/tags/{i}/">{e(t)}</a>' for i, t in enumerate(a["tags"]))  # type: ignore[arg-type]
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{e(a["title"])} - Sputnik International</title></head>
<body><div id="wrap"><div class="top"><div class="logo"><a href="/">Sputnik</a></div>
<div class="clock">16:02 GMT +3</div><div class="clock-date">22 September 2019</div>
<div class="player"><div class="player__btn">Listen Live</div></div></div>
<div class="content"><div class="col-main">
<div class="media"><img src="/i/{a["n"]}.jpg"><div class="media__cap">{e(a["caption"])}</div></div>
<div class="hdr"><div class="ttl">{e(a["title"])}</div>
<div class="meta"><span class="dt">06.09.2016</span><div class="short"><span class="short__btn">Get short URL</span></div>
<div class="shr"><span>0</span><span>10</span></div></div></div>
<div class="body">
{chr(10).join(body)}
<div class="more"><div class="more__item"><a href="/x/1/">US, Turkey Not Likely to Liberate Raqqa Without Green Light From Russia, Iran</a></div><div class="more__item"><a href="/x/2/">Russia-US Syria Talks Success May Expedite Intra-Syrian Negotiations Resumption</a></div></div>
<div class="tagz">{tags}</div>
<div class="cmt"><div class="cmt__tabs"><span>Community standards</span><span>Discussion</span></div>
<div class="cmt__via"><span>Comment via Facebook</span><span>Comment via Sputnik</span></div></div>
</div></div>
<div class="col-side"><div class="side-h">Most read</div><div class="side-i"><a href="/a/">Russia, China Hold Joint Naval Drills in South China Sea</a></div>
<div class="side-i"><a href="/b/">Pentagon Says Coalition Strikes Killed 'Dozens' of Militants Near Mosul</a></div></div>
</div><div class="foot">&copy; 2019 Sputnik. All rights reserved. 18+</div></div></body></html>
"""


BIOS = {
    "Jane Roe": "Jane Roe covers transport and regional politics for the Harbour Ledger. She joined the paper in 2015 after ten years at a national news agency.",
    "Tomas Berg": "Tomas Berg writes about energy, housing and local government for the Harbour Ledger. Before that he reported from the capital for a weekly magazine.",
}
MAGAZINE_WIDGETS = [
    "We use cookies to improve your experience on our site. By continuing to browse, you agree to our use of cookies.",
    "Accept and close",
    "Advertisement",
    "Sign up for the Morning Ledger. The day's most important stories from the coast, delivered to your inbox before breakfast.",
    "Most read this week",
    "Support local journalism. Subscribers get unlimited access to every story for less than the price of a coffee a week.",
]


def magazine(a: dict[str, object]) -> str:
    """A second, different div-soup template: cookie banner, ad label, newsletter box, bio, most-read."""
    e = html.escape
    paras = list(a["paragraphs"])  # type: ignore[arg-type]
    body = []
    for i, p in enumerate(paras):
        body.append(f'<div class="x-p">{e(p)}</div>')
        if i == 1:
            body.append('<div class="x-ad"><div class="x-ad__l">Advertisement</div><div class="x-ad__slot"></div></div>')
        if i == 2:
            body.append(f'<div class="x-nl"><div class="x-nl__t">{MAGAZINE_WIDGETS[3]}</div>'
                        '<div class="x-nl__f"><input type="email"><div class="x-btn">Sign up</div></div></div>')
    most = "".join(f'<div class="x-mr__i"><a href="/story/{k}/">Story number {k} that many people read this week</a></div>'
                   for k in range(1, 6))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(a["title"])} | Harbour Ledger</title></head>
<body>
<div class="x-cb"><div class="x-cb__t">{MAGAZINE_WIDGETS[0]}</div><div class="x-cb__b">{MAGAZINE_WIDGETS[1]}</div></div>
<div class="x-top"><div class="x-logo">Harbour Ledger</div></div>
<div class="x-page"><div class="x-main">
<div class="x-h1">{e(a["title"])}</div>
<div class="x-by">By {e(a["author"])} · 12 March 2024</div>
{chr(10).join(body)}
<div class="x-bio"><div class="x-bio__t">{e(BIOS[a["author"]])}</div></div>
<div class="x-sup">{MAGAZINE_WIDGETS[5]}</div>
</div>
<div class="x-side"><div class="x-mr"><div class="x-mr__h">{MAGAZINE_WIDGETS[4]}</div>{most}</div></div>
</div>
<div class="x-foot">© 2024 Harbour Ledger Media. All rights reserved.</div>
</body></html>
"""


SEED_ABSENT = ["Listen Live", "Get short URL", "Community standards", "Comment via Facebook", "Comment via Sputnik",
               "Share on Facebook", "All rights reserved", "Most read"]


def main() -> None:
    arts = articles()
    for name, render, absent in (
        ("divsoup", divsoup, [*SEED_ABSENT, "Harbour towns brace for a long winter", "A view of the harbour"]),
        ("magazine", magazine, MAGAZINE_WIDGETS + list(BIOS.values()) + ["All rights reserved", "Story number"]),
    ):
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        pages = {}
        for a in arts:
            fname = f"article-{a['n']}.html"
            (folder / fname).write_text(render(a), encoding="utf-8")
            pages[fname] = {"paragraphs": a["paragraphs"], "tags": a["tags"]}
        absent_all = absent + [", ".join(a["tags"][:3]) for a in arts]  # type: ignore[index]
        meta = {"quoted": QUOTED, "quoted_in": [f"article-{n}.html" for n in QUOTED_IN],
                "boilerplate_absent": absent_all, "pages": pages}
        (folder / "site.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
