"""XML from strangers (feeds, sitemaps): parsed without entity expansion, network or huge trees.

Billion-laughs and XXE documents need entity declarations in an internal DTD; real feeds and sitemaps
never have them. So the parser never substitutes entities or loads DTDs (no local file is read, no
memory blow-up), and a document that declares entities is refused outright (`UnsafeXML`), so that the
caller can log and count it instead of guessing what the text would have been.
"""

from __future__ import annotations

from lxml import etree


class UnsafeXML(ValueError):
    """The document declares XML entities (entity expansion / external entity attack)."""


def xml_parser() -> etree.XMLParser:
    """A parser that never expands entities, never touches the network, and keeps libxml2's limits."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=True,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def declared_entities(tree: etree._ElementTree) -> list[str]:
    """Names of the entities the document's internal DTD declares (empty for ordinary XML)."""
    dtd = tree.docinfo.internalDTD
    if dtd is None:
        return []
    return [str(entity.name) for entity in dtd.iterentities()]


def refuse_entities(tree: etree._ElementTree) -> None:
    """Raises UnsafeXML when the document declares entities."""
    names = declared_entities(tree)
    if names:
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise UnsafeXML(f"declares XML entities ({shown}); refusing to expand them")


def refuse_entity_prolog(body: bytes) -> None:
    """Raises UnsafeXML when a DOCTYPE near the start declares entities, before any parser sees it
    (libxml2 gives up on some bombs with a bare syntax error, which would hide what they are)."""
    head = body[:65536]
    start = head.find(b"<!DOCTYPE")
    if start >= 0 and b"<!ENTITY" in head[start:]:
        raise UnsafeXML("declares XML entities in its DOCTYPE; refusing to expand them")


def parse_xml(body: bytes) -> tuple[etree._Element | None, list[str]]:
    """The root of a safely parsed document (None when nothing parses) and the errors recovered from;
    UnsafeXML for entity declarations."""
    refuse_entity_prolog(body)
    parser = xml_parser()
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        return None, [str(exc)]
    errors = [f"line {e.line}: {e.message}" for e in parser.error_log]
    if root is None:
        return None, errors
    refuse_entities(root.getroottree())
    return root, errors


def local_name(element: etree._Element) -> str:
    """Tag name without its namespace ('' for comments and other non-elements)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]
