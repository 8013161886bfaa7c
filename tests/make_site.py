"""Generates tests/pages/site/: a small news site for the discovery tests (kept in the repo; rerun to change).

`{{BASE}}` in feeds, sitemaps and robots.txt is replaced with the server's address when served
(tests.discovery_server.NewsSiteHandler), so that they can carry absolute URLs as real ones do.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

SITE = Path(__file__).parent / "pages" / "site"
BASE = "{{BASE}}"

# key: (path, title, date or None, author or None, lang, paragraphs)
ARTICLES = {
    "A": ("/news/2026/11/harbour-bridge-reopens-after-repairs.html", "Harbour Bridge Reopens After Repairs",
          "2026-11-20T09:30:00+00:00", "Maria Jensen", "en", [
              ("The Harbour Bridge reopened to traffic on Friday morning, two years after engineers closed it to "
              "replace corroded cables and resurface the whole of its deck."),
              ("City officials said the repairs came in four percent under budget, largely because the steel for "
              "the new cables was bought before prices rose last spring."),
              ("Commuters who had spent the closure on ferries and a long detour through the northern tunnel lined "
              "up before dawn to be among the first to cross the river."),
          ]),
    "B": ("/news/2026/11/night-trains-return-to-coast.html", "Night Trains Return to the Coast",
          "2026-11-21T18:00:00+00:00", "Ahmed Saleh", "en", [
              ("Sleeper trains will run on the coast line again from December, eleven years after the last night "
              "service was withdrawn by the previous operator of the route."),
              ("The operator has refurbished twelve carriages with two-berth cabins and a small dining car that "
              "serves breakfast shortly before the morning arrival at the terminus."),
              ("Tickets for the first month sold out within a day, and the operator said it would add a second "
              "weekly departure if the demand held through the winter."),
          ]),
    "D": ("/culture/2026/11/museum-opens-new-wing.html", "Museum Opens a New Wing for Maritime History",
          "2026-11-22T10:00:00+00:00", "Lena Park", "en", [
              ("The city museum opened its new maritime wing on Saturday, with three halls of ship models, charts "
              "and instruments lent by families of former harbour pilots."),
              ("Curators spent four years restoring a lighthouse lens that now turns slowly in the central hall, "
              "lit from below so that visitors can follow the path of its beam."),
              ("Entry to the new wing is free for residents during its first month, after which the usual museum "
              "ticket will cover it on every day of the week."),
          ]),
    "E": ("/news/2020/03/old-story-from-the-archive.html", "Old Story From the Archive",
          "2020-03-01T08:00:00+00:00", "Tomas Okafor", "en", [
              ("This story was published years ago and stays online in the archive, where readers still find it "
              "through searches about the old ferry terminal and its demolition."),
              ("The terminal was demolished in the spring after a long debate in the council about whether its "
              "brick hall could be kept as a market for local producers."),
              ("In the end the hall was taken down brick by brick and stored, and the bricks were later used to "
              "build the new visitor centre beside the marina on the east side."),
          ]),
    "F": ("/news/2026/11/ferry-timetable-changes-announced.html", "Ferry Timetable Changes Announced",
          "2026-11-23T07:00:00+00:00", "Maria Jensen", "en", [
              ("The ferry company announced a new winter timetable on Monday, with earlier first sailings on "
              "weekdays and fewer late crossings on Sunday evenings."),
              ("Passengers who travel to the islands for work welcomed the earlier boats, which will leave the "
              "main pier at a quarter past six instead of seven o'clock."),
              ("The company said the late Sunday sailings had carried fewer than twenty passengers on average "
              "last winter, which no longer covered the cost of the crew."),
          ]),
    "G": ("/kultur/2026/11/neues-museum-eroeffnet-im-hafen.html", "Neues Museum eröffnet im Hafen",
          "2026-11-22T12:00:00+00:00", "Jonas Weber", "de", [
              ("Im alten Hafenspeicher hat am Samstag ein neues Museum eröffnet, das die Geschichte der Fischerei "
              "und des Handels in der Stadt über drei Jahrhunderte erzählt."),
              ("Die Ausstellung zeigt Boote, Netze und Werkzeuge, die Familien aus der Umgebung dem Museum in den "
              "vergangenen Jahren geschenkt haben, und viele alte Fotografien."),
              ("Der Eintritt ist im ersten Monat für alle Besucher frei, danach kostet eine Karte für Erwachsene "
              "acht Euro und für Kinder und Studenten die Hälfte davon."),
          ]),
    "H": ("/news/2026/11/council-approves-budget-plan.html", "Council Approves Budget Plan",
          "2019-05-04T15:00:00+00:00", "Tomas Okafor", "en", [
              ("The council approved the budget plan on Thursday evening after a debate that lasted more than "
              "six hours and ended with a narrow vote of twenty-one to nineteen."),
              ("The plan raises spending on schools and public transport while cutting the budget for road "
              "building, which opposition members called short-sighted and unfair."),
              ("The mayor said the plan would be reviewed after a year, once the effects of the new bus lanes "
              "on traffic in the city centre could be measured properly."),
          ]),
    "I": ("/news/2026/11/bus-lanes-extended-downtown.html", "Bus Lanes Extended Downtown",
          "2026-11-24T09:00:00+00:00", "Lena Park", "en", [
              ("The city extended its bus lanes through the downtown grid on Tuesday, giving buses their own lane "
              "on four more streets during the morning and evening rush."),
              ("Drivers complained about the loss of parking spaces, but the transport office said the buses "
              "had become six minutes faster on average on the affected routes."),
              ("Cyclists may use the new lanes as well, which the cycling association called a cheap and welcome "
              "improvement that should be repeated in the other districts."),
          ]),
}
CORRECTION = ("Correction: an earlier version of this article misstated how long the bridge was closed for "
              "repairs, which was two years and not three.")
LONG_READ = "/news/the-long-read-city-water.html"
LONG_READ_2 = "/news/the-long-read-city-water-2.html"
LISTING_IN_DISGUISE = "/news/all-the-latest-stories-today.html"


def article_page(key: str) -> str:
    _path, title, date, author, lang, paragraphs = ARTICLES[key]
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": date,
          "author": {"@type": "Person", "name": author}}
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if key == "A":
        body += f'\n<p class="correction">{html.escape(CORRECTION)}</p>'
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)} - The Test Herald</title>
<meta property="og:type" content="article"><meta property="og:title" content="{html.escape(title)}">
<meta property="article:published_time" content="{date}"><meta name="author" content="{html.escape(author)}">
<script type="application/ld+json">{json.dumps(ld)}</script></head>
<body><header><a href="/">The Test Herald</a> <a href="/news/">News</a> <a href="/culture/">Culture</a></header>
<main><article><h1>{html.escape(title)}</h1><p class="byline">By {html.escape(author)}</p>
{body}
</article></main><footer><a href="/about/">About us</a></footer></body></html>
"""


def long_read(page: int) -> str:
    """A two-page article that names neither date nor author: the feed's hints fill them in."""
    texts = {1: [("The city's water comes from three reservoirs in the hills, and the oldest of them was dug by "
                 "hand more than a century ago by workers who lived in camps beside the valley."),
                 ("Engineers now watch the reservoirs from a control room in the old pumping station, where "
                 "screens show levels, flows and the quality of the water every few minutes.")],
             2: [("On the second page of this long read, we follow the pipes from the treatment works under the "
                 "river to the taps of the old town, where some mains are still made of cast iron."),
                 ("Replacing those mains will take another ten years, the utility says, and will close streets "
                 "in the old town one block at a time so that shops can stay open.")]}[page]
    nav = ('<link rel="next" href="/news/the-long-read-city-water-2.html">' if page == 1 else "")
    more = ('<p class="pager"><a href="/news/the-long-read-city-water-2.html">Next page</a></p>' if page == 1
            else '<p class="pager"><a href="/news/the-long-read-city-water.html">Previous page</a></p>')
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in texts)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>The Long Read: Where the City's Water Comes From</title>
<meta property="og:type" content="article">{nav}</head>
<body><header><a href="/">The Test Herald</a></header>
<main><article><h1>The Long Read: Where the City's Water Comes From</h1>
{body}
{more}
</article></main></body></html>
"""


def index_page(title: str, links: list[tuple[str, str]], extra_head: str = "") -> str:
    items = "\n".join(f'<li><a href="{href}">{html.escape(text)}</a></li>' for href, text in links)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} - The Test Herald</title>
<meta property="og:type" content="website">{extra_head}</head>
<body><h1>{html.escape(title)}</h1><ul>
{items}
</ul></body></html>
"""


def link(key: str) -> tuple[str, str]:
    return ARTICLES[key][0], ARTICLES[key][1]


def rss_item(url: str, title: str, date: str | None = None, author: str | None = None) -> str:
    from datetime import datetime
    from email.utils import format_datetime

    parts = [f"<title>{html.escape(title)}</title>", f"<link>{BASE}{html.escape(url)}</link>"]
    if date:
        parts.append(f"<pubDate>{format_datetime(datetime.fromisoformat(date))}</pubDate>")
    if author:
        parts.append(f"<author>{html.escape(author)}</author>")
    return "<item>" + "".join(parts) + "</item>"


def rss(items: list[str], title: str = "The Test Herald") -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{title}</title>'
            f"<link>{BASE}/</link><language>en</language>\n" + "\n".join(items) + "\n</channel></rss>\n")


def news_url(key: str, name: str = "The Test Herald") -> str:
    path, _title, date, _, lang, _ = ARTICLES[key]
    return (f"<url><loc>{BASE}{path}</loc><news:news><news:publication><news:name>{name}</news:name>"
            f"<news:language>{lang}</news:language></news:publication>"
            f"<news:publication_date>{date}</news:publication_date><news:title>{html.escape(ARTICLES[key][1])}"
            f"</news:title></news:news></url>")


LAUGHS = "".join(
    f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
)
BOMB_DTD = f'<!DOCTYPE ROOTNAME [<!ENTITY lol0 "lol">{LAUGHS}]>'


def write(path: str, text: str) -> None:
    target = SITE / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def main() -> None:
    for key in ARTICLES:
        write(ARTICLES[key][0], article_page(key))
    write(LONG_READ, long_read(1))
    write(LONG_READ_2, long_read(2))
    private = ("/private/secret-plan-revealed.html", "Secret Plan Revealed")
    write(private[0], article_page("A").replace("Harbour Bridge Reopens", "Secret Plan Revealed"))
    media = [("/files/annual-report-2026.pdf", "Annual report (PDF)"),
             ("/video/harbour-bridge-drone-flight.mp4", "Drone flight (video)"),
             ("/media/clip-harbour-bridge-opening", "Watch the opening (video)")]
    (SITE / "files").mkdir(parents=True, exist_ok=True)
    (SITE / "files" / "annual-report-2026.pdf").write_bytes(b"%PDF-1.4\n% not a real report\n%%EOF\n")
    (SITE / "video").mkdir(parents=True, exist_ok=True)
    (SITE / "video" / "harbour-bridge-drone-flight.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    write(LISTING_IN_DISGUISE, index_page("All the latest stories today",
                                          [link(k) for k in ("A", "B", "D")] + [(LONG_READ, "The long read")]))
    write("/index.html", index_page("The Test Herald", [
        ("/news/", "News"), ("/culture/", "Culture"), link("A"), link("H"), private,
        (LISTING_IN_DISGUISE, "All the latest"), ("/tag/transport/", "Transport"),
        ("/author/maria-jensen/", "Maria Jensen"), ("/news/?page=2", "More news"), *media,
        ("http://example.invalid/news/2026/11/other-site-story.html", "Elsewhere"),
    ], '<link rel="alternate" type="application/rss+xml" href="/feed.rss">'))
    write("/news/index.html", index_page("News", [link("B"), (LONG_READ, "The long read"), link("A")]))
    write("/culture/index.html", index_page("Culture", [link("D"), link("G")]))
    write("/robots.txt", f"User-agent: *\nDisallow: /private/\n\nSitemap: {BASE}/sitemap_index.xml\n")

    a_path = ARTICLES["A"][0]
    write("/feed.rss", rss([
        rss_item(a_path + "?utm_source=rss&utm_medium=feed", ARTICLES["A"][1], ARTICLES["A"][2]),
        rss_item(LONG_READ, "The Long Read: Where the City's Water Comes From", "2026-11-19T06:00:00+00:00",
                 "jane.doe@example.org (Jane Doe)"),
        rss_item(ARTICLES["E"][0], ARTICLES["E"][1], ARTICLES["E"][2]),
        rss_item("/busy" + ARTICLES["I"][0], ARTICLES["I"][1], ARTICLES["I"][2]),
        rss_item(private[0], private[1], "2026-11-20T00:00:00+00:00"),
        *(rss_item(url, text, "2026-11-20T00:00:00+00:00") for url, text in media),
        "<item><title>Elsewhere</title><link>http://example.invalid/news/2026/11/other-site-story.html</link></item>",
        rss_item("/news/", "News front"), rss_item("/tag/transport/", "Transport"),
    ]))
    entries = "\n".join(
        f'<entry{f" xml:lang={chr(34)}" + ARTICLES[k][4] + chr(34) if k == "G" else ""}>'
        f"<title>{html.escape(ARTICLES[k][1])}</title><id>tag:test,2026:{k}</id>"
        f'<link rel="alternate" type="text/html" href="{BASE}{ARTICLES[k][0]}"/>'
        f"<published>{ARTICLES[k][2]}</published><updated>{ARTICLES[k][2]}</updated>"
        f"<author><name>{html.escape(ARTICLES[k][3])}</name></author></entry>" for k in ("B", "A", "G"))
    write("/atom.xml", '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
          f'xml:lang="en"><title>The Test Herald</title><id>tag:test,2026:feed</id><updated>2026-11-24T00:00:00Z'
          f'</updated><link rel="self" href="{BASE}/atom.xml"/>\n{entries}\n</feed>\n')
    write("/rdf.xml", '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
          'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
          f'<channel rdf:about="{BASE}/rdf.xml"><title>Culture</title><link>{BASE}/culture/</link>'
          f'<items><rdf:Seq><rdf:li rdf:resource="{BASE}{ARTICLES["D"][0]}"/></rdf:Seq></items></channel>'
          f'<item rdf:about="{BASE}{ARTICLES["D"][0]}"><title>{ARTICLES["D"][1]}</title>'
          f'<link>{BASE}{ARTICLES["D"][0]}</link><dc:date>{ARTICLES["D"][2]}</dc:date>'
          f"<dc:creator>{ARTICLES['D'][3]}</dc:creator></item></rdf:RDF>\n")
    write("/wrong-type.txt", rss([rss_item(ARTICLES["F"][0], ARTICLES["F"][1], ARTICLES["F"][2])]))
    never = BASE + "/news/2026/11/should-never-be-fetched-{}.html"
    write("/malicious/billion-laughs.xml", f'<?xml version="1.0"?>\n{BOMB_DTD.replace("ROOTNAME", "rss")}\n'
          f'<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
          f'<link>{never.format("laughs")}</link></item></channel></rss>\n')
    write("/malicious/xxe.xml", '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
          f'<rss version="2.0"><channel><title>&xxe;</title><item><title>&xxe;</title>'
          f'<link>{never.format("xxe")}</link><description>&xxe;</description></item></channel></rss>\n')
    write("/malicious/malformed.xml", '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Broken'
          f"</title><item><title>Unclosed <b>tag</title><link>{BASE}{a_path}</link></item>"
          "<item><title>&& << garbage</title><link>")
    write("/malicious/not-a-feed.html", "<!DOCTYPE html><html><head><title>Oops</title></head><body>"
          "<p>This is a web page, not a feed.</p></body></html>\n")
    sm = '<?xml version="1.0" encoding="UTF-8"?>\n'
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    write("/sitemap_index.xml", f"{sm}<sitemapindex {ns}>\n<sitemap><loc>{BASE}/sitemap-pages.xml</loc></sitemap>\n"
          f"<sitemap><loc>{BASE}/sitemap-news.xml.gz</loc><lastmod>2026-11-24</lastmod></sitemap>\n"
          f"</sitemapindex>\n")
    pages = ["/", "/news/", "/culture/", ARTICLES["A"][0], ARTICLES["B"][0], ARTICLES["H"][0], LISTING_IN_DISGUISE,
             "/tag/transport/"]
    write("/sitemap-pages.xml", f"{sm}<urlset {ns}>\n" + "\n".join(f"<url><loc>{BASE}{p}</loc></url>" for p in pages)
          + "\n</urlset>\n")
    news = [news_url(k) for k in ("D", "E", "G")]
    news.append(news_url("A").replace(ARTICLES["A"][0], private[0]))
    news.append(f"<url><loc>{BASE}{LONG_READ}</loc><news:news><news:publication><news:name>The Test Herald"
                "</news:name><news:language>en</news:language></news:publication><news:publication_date>"
                "2026-11-19</news:publication_date><news:title>The Long Read</news:title></news:news></url>")
    write("/sitemap-news.xml", f'{sm}<urlset {ns} xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
          + "\n".join(news) + "\n</urlset>\n")
    write("/malicious/sitemap-bomb.xml", f'<?xml version="1.0"?>\n{BOMB_DTD.replace("ROOTNAME", "urlset")}\n'
          f"<urlset {ns}><url><loc>{never.format('bomb')}?&lol9;</loc></url></urlset>\n")
    write("/malicious/sitemap-xxe.xml", '<?xml version="1.0"?>\n<!DOCTYPE urlset [<!ENTITY xxe SYSTEM '
          f'"file:///etc/passwd">]>\n<urlset {ns}><url><loc>{never.format("xxe-sitemap")}?&xxe;</loc></url>'
          "</urlset>\n")


if __name__ == "__main__":
    main()
