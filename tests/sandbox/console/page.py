"""Reading the console's HTML in tests: the form controls and their options, as a browser sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Control:
    tag: str
    attrs: dict[str, str | None]
    options: list[tuple[str, bool]] = field(default_factory=list)  # (value, selected) of a select
    text: str = ""  # a textarea's content

    @property
    def name(self) -> str | None:
        return self.attrs.get("name")


class Page(HTMLParser):
    """The controls of every form on a page, by name, and the page's text."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.controls: dict[str, Control] = {}
        self.texts: list[str] = []
        self._open: Control | None = None
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("input", "select", "textarea") and attributes.get("name"):
            control = Control(tag, attributes)
            self.controls[str(attributes["name"])] = control
            self._open = control if tag != "input" else None
        elif tag == "option" and self._open is not None:
            self._open.options.append((str(attributes.get("value", "")), "selected" in attributes))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("select", "textarea"):
            self._open = None

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._open is not None and self._open.tag == "textarea":
            self._open.text += data

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())
