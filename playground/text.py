"""User text made literal for the two renderers the pages use: Streamlit markdown and Plotly labels.

Anything a user can choose (link values, CSV file and column names, label values, a checkpoint's
class names and metrics keys, run names, error messages that quote them) must show as typed, never
as a link, an image, a colour, an icon or a formula. Apply these where such text meets a renderer:

- `markdown_literal` for every Streamlit call that reads markdown: st.markdown, st.caption,
  st.info/success/warning/error, st.toast, st.metric (label and value), st.page_link, image
  captions, radio options, widget labels and help texts.
- `plotly_literal` for Plotly strings: trace names (legends), axis titles, category values (tick
  labels and hover text), text labels. Plotly renders a subset of HTML there (<a href>, <b>, <i>,
  <br>, <sub>, <sup>, <span style>); it decodes entities after reading the tags.

Not for places Streamlit shows as plain text (selectbox and multiselect options, dataframe cells,
placeholders, st.code, st.text): there the escapes would show. Line breaks become spaces.

Knows nothing about Streamlit or Plotly themselves: plain string functions.
"""
from __future__ import annotations

import html
import re

# Each rule: (where, what to put there). CommonMark renders a backslash-escaped ASCII punctuation
# character as itself; only characters where they can start markup are escaped, so ordinary text
# (sentences, numbers, keys like layers[0].out or batch_size, "x < 5") reads the same in the source.
_MARKDOWN_RULES = (
    # code, emphasis, strikethrough, LaTeX, tables
    (re.compile(r"[\\`*~$|]"), r"\\\g<0>"),
    # a link or an image needs "](" (reference links need a definition, which needs a line of its own)
    (re.compile(r"\](?=\()"), r"\\]"),
    # HTML tags, comments and <autolinks>; entities (&amp; &#60;)
    (re.compile(r"<(?=[A-Za-z/!?])|&(?=[#A-Za-z])"), r"\\\g<0>"),
    # `_` emphasis; between two letters or digits (batch_size) it never is
    (re.compile(r"(?<![^\W_])_|_(?![^\W_])"), r"\\_"),
    # what starts a block at the start of a line: heading, quote, list, setext underline, ordered list
    (re.compile(r"^[#>+=\[-]"), r"\\\g<0>"),
    (re.compile(r"^(\d+)([.)])(?=\s|$)"), r"\1\\\2"),
    # a directive's label or attributes (`:red[x]`, `:foo{x}`), which Streamlit drops even when the
    # directive itself is broken by the joiner below
    (re.compile(r"(?<=:)([A-Za-z][\w-]*)([\[{])"), r"\1\\\2"),
    # Streamlit and GFM find some things in the parsed text, after escapes are resolved: directives
    # (`:red[...]`), `:material/icon:`, `:emoji:`, `:streamlit:` and autolinks (`http://`, `www.`,
    # `a@b.co`). An invisible word joiner after the colon, the @ and the "www" breaks each.
    (re.compile(r"(?<=:)(?=[\w+/-])|(?<=@)(?=\w)|(?<=www)(?=\.)", re.IGNORECASE), "\u2060"),
)
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")
WORD_JOINER = "\u2060"


def markdown_literal(text: object) -> str:
    """`text` as Streamlit markdown that displays exactly these characters, on one line."""
    literal = _LINE_BREAKS.sub(" ", str(text)).lstrip()  # leading spaces would make a code block
    for where, replacement in _MARKDOWN_RULES:
        literal = where.sub(replacement, literal)
    return literal


def plotly_literal(text: object) -> str:
    """`text` as a Plotly label that displays exactly these characters (no tags, no entities)."""
    return html.escape(str(text), quote=False)


def plotly_literals(texts) -> list[str]:
    """`plotly_literal` of each item, e.g. class names used as legend entries or category ticks."""
    return [plotly_literal(text) for text in texts]


def metric_value(value: float | None) -> str:
    """A loss or score as the pages show it: four decimals, or a dash when there is none yet."""
    return "–" if value is None else f"{value:.4f}"
