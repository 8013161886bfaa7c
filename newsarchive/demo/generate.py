"""Generates the demo site's static pages (kept in the repo; rerun to change them)."""
import html
import json
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

SITE = Path(__file__).parent / "site"
ARTICLES = [
    ("2026/11/harbour-bridge-reopens", "Harbour Bridge Reopens After Two Years of Repairs", "2026-11-20T09:30:00+00:00",
     "Maria Jensen", ["Transport", "Harbour", "Infrastructure"], [
        "The Harbour Bridge reopened to traffic on Friday morning, two years after engineers closed it to replace corroded cables and resurface its deck.",
        "City officials said the repairs came in four percent under budget, largely because the steel for the new cables was bought before prices rose last spring.",
        "Commuters who had spent the closure on ferries and a long detour through the northern tunnel lined up before dawn to be among the first to cross.",
        "The bridge will carry buses only during its first week, while inspectors monitor how the new expansion joints respond to the weight of heavy vehicles.",
     ]),
    ("2026/11/library-opens-night-reading-room", "City Library Opens a Night Reading Room", "2026-11-21T18:00:00+00:00",
     "Tomas Okafor", ["Culture", "Libraries"], [
        "The central library will keep one reading room open until two in the morning from next week, a first for the city's public libraries.",
        "Librarians proposed the change after a survey showed that shift workers and students made up a growing share of the library's members.",
        "The room will be staffed by two librarians and a security guard, and the cost will be covered by closing the branch on Monday mornings.",
     ]),
    ("2026/11/orchard-growers-record-apple-harvest", "Orchard Growers Report a Record Apple Harvest", "2026-11-22T07:15:00+00:00",
     "Lena Park", ["Agriculture", "Economy"], [
        "Apple growers in the valley picked more fruit this autumn than in any year since records began, the regional growers' association said on Sunday.",
        "A mild spring without late frosts let the blossom set fully, and the dry September kept fungal disease away from the ripening fruit.",
        "Prices at the wholesale market have fallen by a third as a result, and several growers said they would press more of the crop into juice.",
        "The association asked the city's schools to add local apples to their lunch menus to absorb some of the surplus.",
     ]),
    ("2026/11/night-trains-return-to-the-coast", "Night Trains Return to the Coast Line", "2026-11-23T12:45:00+00:00",
     "Ahmed Saleh", ["Transport", "Rail"], [
        "Sleeper trains will run on the coast line again from December, eleven years after the last night service was withdrawn.",
        "The operator has refurbished twelve carriages with two-berth cabins and a small dining car that serves breakfast before arrival.",
        "Tickets for the first month sold out within a day, and the operator said it would add a second weekly departure if demand held.",
     ]),
]

def page(slug, title, date, author, tags, paragraphs):
    related = [a for a in ARTICLES if a[0] != slug][:2]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{html.escape(title)} - The Demo Gazette</title>
  <meta name="description" content="{html.escape(paragraphs[0][:150])}">
  <meta name="keywords" content="{html.escape(', '.join(tags))}">
  <meta property="og:title" content="{html.escape(title)}">
  <meta property="og:type" content="article">
  <meta property="og:site_name" content="The Demo Gazette">
  <meta property="article:published_time" content="{date}">
  <meta name="author" content="{html.escape(author)}">
  <link rel="canonical" href="/news/{slug}.html">
  <script type="application/ld+json">{json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": date, "author": {"@type": "Person", "name": author}, "keywords": tags})}</script>
</head>
<body>
  <header>
    <a href="/">The Demo Gazette</a>
    <nav><ul><li><a href="/">Home</a></li><li><a href="/news/">News</a></li><li><a href="/culture/">Culture</a></li></ul></nav>
    <div class="radio"><button type="button">Listen Live</button></div>
  </header>
  <main>
    <article>
      <h1>{html.escape(title)}</h1>
      <p class="byline">By {html.escape(author)} · <time datetime="{date}">{date[:10]}</time></p>
      <div class="share"><a href="#">Share on Facebook</a> <a href="#">Share on X</a> <button>Get short URL</button></div>
      <div class="article-body">
{chr(10).join(f'        <p>{html.escape(p)}</p>' for p in paragraphs)}
      </div>
      <ul class="tags">{''.join(f'<li><a href="/tags/{t.lower()}/">{html.escape(t)}</a></li>' for t in tags)}</ul>
    </article>
    <aside class="related"><h2>Related</h2><ul>{''.join(f'<li><a href="/news/{a[0]}.html">{html.escape(a[1])}</a></li>' for a in related)}</ul></aside>
  </main>
  <footer><p>© 2026 The Demo Gazette. All rights reserved.</p></footer>
</body>
</html>
"""

for slug, title, date, author, tags, paragraphs in ARTICLES:
    path = SITE / "news" / f"{slug}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(slug, title, date, author, tags, paragraphs))
items = "".join(f"""
    <item><title>{html.escape(t)}</title><link>/news/{s}.html</link><pubDate>{format_datetime(datetime.fromisoformat(d))}</pubDate><author>{html.escape(a)}</author></item>"""
    for s, t, d, a, _, _ in ARTICLES)
(SITE / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>The Demo Gazette</title>
<link rel="alternate" type="application/rss+xml" href="/feed.rss"></head>
<body><h1>The Demo Gazette</h1><ul>
{chr(10).join(f'<li><a href="/news/{s}.html">{html.escape(t)}</a></li>' for s, t, *_ in ARTICLES)}
</ul></body></html>
""")
(SITE / "urls.txt").write_text("".join(f"news/{s}.html\n" for s, *_ in ARTICLES))
(SITE / "robots.txt").write_text("User-agent: *\nDisallow: /private/\nSitemap: /sitemap.xml\n")
# Discovery: an RSS feed and a sitemap (relative links: the demo's port is only known when it is served).
(SITE / "feed.rss").write_text(f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>The Demo Gazette</title><link>/</link><language>en</language>{items}
</channel></rss>
""")
(SITE / "sitemap.xml").write_text("""<?xml version="1.0" encoding="utf-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
""" + "".join(f"  <url><loc>/news/{s}.html</loc><lastmod>{d[:10]}</lastmod></url>\n" for s, _, d, *_ in ARTICLES)
    + "</urlset>\n")
