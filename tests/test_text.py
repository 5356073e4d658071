"""User text made literal for Streamlit markdown and Plotly labels."""
import html
import re
import string

import pytest

from playground.text import WORD_JOINER, markdown_literal, plotly_literal, plotly_literals

HOSTILE = [
    "[Click here](http://evil/)",  # a link
    "![x](http://x/y.png)",  # an image the browser would fetch
    "<a href=x>b</a>", "<img src=http://x/y.png>",  # HTML
    "**bold** _it_ ~~gone~~ `code`",  # emphasis, strikethrough, code
    "http://evil.example www.evil.example me@evil.example",  # GFM autolinks
    ":red[coloured] :blue-background[x] :green-badge[ok] :small[tiny]",  # Streamlit directives
    ":material/home: :smile: :+1: :-1: :streamlit:",  # icons, emoji shortcodes, the logo
    "$x^2$ and $$\\int$$",  # LaTeX
    "# heading", "> quote", "- item", "1. item", "| a | b |", "---",  # blocks
    "&lt;b&gt; &amp; &#60;",  # entities
    "back\\slash \\[not escaped\\]",  # backslashes of the user's own
]


def unescape(markdown: str) -> str:
    """What a CommonMark renderer shows for text made only of backslash escapes and plain characters."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown.replace(WORD_JOINER, ""))


@pytest.mark.parametrize("text", HOSTILE)
def test_every_character_of_hostile_text_shows_as_typed(text):
    assert unescape(markdown_literal(text)) == text


@pytest.mark.parametrize("char", string.punctuation)
def test_every_ascii_punctuation_character_is_backslash_escaped(char):
    assert markdown_literal(f"a{char}b").replace(WORD_JOINER, "") == f"a\\{char}b"


def test_no_special_character_is_left_unescaped():
    escaped = markdown_literal("".join(HOSTILE))
    assert not re.search(r"(?<!\\)(\\\\)*[\[\]()!<>*_`#~|$&]", escaped.replace("\\\\", ""))


def test_letters_digits_spaces_and_other_scripts_are_kept():
    assert markdown_literal("Run 3 of Zoë: naïve 猫 😀") == f"Run 3 of Zoë\\:{WORD_JOINER} naïve 猫 😀"


def test_a_link_becomes_escaped_brackets():
    assert markdown_literal("[Click here](http://evil/)").startswith(r"\[Click here\]\(http\:")


def shown(text: str) -> str:
    """The text node Streamlit's text-level plugins search: escapes resolved, joiners kept."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown_literal(text))


def test_icon_and_emoji_shortcodes_are_broken_by_an_invisible_joiner():
    """Streamlit finds `:material_x:`, `:emoji:` and `:streamlit:` in the text after escapes are resolved."""
    text = ":material/home: :material_home: :smile: :+1: :streamlit:"
    assert not re.search(r":[\w+/-]+:", shown(text))
    assert shown(text).replace(WORD_JOINER, "") == text


@pytest.mark.parametrize("text", ["http://evil.example/x", "HTTPS://evil.example", "www.evil.example",
                                  "WWW.evil.example", "me@evil.example"])
def test_autolinks_are_broken_by_an_invisible_joiner(text):
    """GFM's autolink literals are also found in the text after escapes are resolved (remark-gfm)."""
    found = [r"(https?://|www(?=\.))([-.\w]+)", r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)"]
    assert not any(re.search(pattern, shown(text), re.IGNORECASE) for pattern in found)
    assert shown(text).replace(WORD_JOINER, "") == text


@pytest.mark.parametrize("text", ["a\nb", "a\r\nb", "a\n\n# b", "a\u2028b"])
def test_line_breaks_become_spaces_so_no_new_block_can_start(text):
    escaped = markdown_literal(text)
    assert "\n" not in escaped and "\r" not in escaped and "\u2028" not in escaped
    assert escaped.startswith("a ")


def test_anything_is_turned_into_text_first():
    assert markdown_literal(3.5) == "3\\.5" and markdown_literal(ValueError("a_b")) == "a\\_b"


# --- Plotly ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", HOSTILE)
def test_plotly_labels_have_no_tags_and_decode_to_the_text(text):
    label = plotly_literal(text)
    assert "<" not in label and ">" not in label
    assert html.unescape(label) == text


def test_plotly_entities_in_user_text_stay_literal():
    assert plotly_literal("&lt;b&gt;") == "&amp;lt;b&amp;gt;"


def test_plotly_literals_escapes_each_item():
    assert plotly_literals(("<b>a</b>", "plain")) == ["&lt;b&gt;a&lt;/b&gt;", "plain"]
