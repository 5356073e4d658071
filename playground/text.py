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

Knows nothing about Streamlit or Plotly themselves: plain string functions.
"""
from __future__ import annotations

import html
import re

# CommonMark lets any ASCII punctuation character be backslash-escaped, and it then renders as
# itself: escaping all of them covers links, images, emphasis, code, HTML, GFM autolinks
# (`http\://`, `www\.`, `a\@b`), tables and strikethrough, LaTeX (`\$`) and Streamlit's
# directives (`\:red\[...\]`, badges, `:small[...]`).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")
# Streamlit finds `:material_name:` icons, `:emoji:` shortcodes, `:streamlit:` and GFM's autolinks
# (`http://`, `www.`, `a@b.co`) by searching the parsed text, after escapes are resolved, so `\:`
# alone does not stop them: an invisible word joiner after each colon and @, and after "www", does.
WORD_JOINER = "\u2060"
_TEXT_PATTERNS = re.compile(r"\\[:@]|www(?=\\\.)", re.IGNORECASE)


def markdown_literal(text: object) -> str:
    """`text` as Streamlit markdown that displays exactly these characters, on one line."""
    flat = _LINE_BREAKS.sub(" ", str(text))
    escaped = _PUNCTUATION.sub(r"\\\1", flat)
    return _TEXT_PATTERNS.sub(lambda found: found.group(0) + WORD_JOINER, escaped)


def plotly_literal(text: object) -> str:
    """`text` as a Plotly label that displays exactly these characters (no tags, no entities)."""
    return html.escape(str(text), quote=False)


def plotly_literals(texts) -> list[str]:
    """`plotly_literal` of each item, e.g. class names used as legend entries or category ticks."""
    return [plotly_literal(text) for text in texts]
