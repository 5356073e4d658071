"""User text made literal for Streamlit markdown and Plotly labels."""
import html
import re

import pytest

from playground.text import WORD_JOINER, markdown_literal, plotly_literal, plotly_literals

HOSTILE = [
    "[Click here](http://evil/)",  # a link
    "![x](http://x/y.png)",  # an image the browser would fetch
    "<a href=x>b</a>", "<img src=http://x/y.png>", "<http://evil/>",  # HTML, an autolink
    "**bold** _it_ ~~gone~~ ~one~ `code` a*b*c",  # emphasis, strikethrough, code
    "http://evil.example www.evil.example WWW.evil.example me@evil.example",  # GFM autolinks
    ":red[coloured] :blue-background[x] :green-badge[ok] :small[tiny] :red :foo{a} ::leaf[x]",  # directives
    ":material/home: :material_home: :smile: :+1: :-1: :streamlit:",  # icons, emoji shortcodes, the logo
    "$x^2$ and $$\\int$$",  # LaTeX
    "# heading", "> quote", "- item", "+ item", "1. item", "2) item", "| a | b |", "===", "    code",  # blocks
    "&lt;b&gt; &amp; &#60;",  # entities
    "back\\slash \\[not escaped\\] \\",  # backslashes of the user's own
]


def unescape(markdown: str) -> str:
    """What CommonMark shows for text whose only markup is backslash escapes (joiners are invisible)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown.replace(WORD_JOINER, ""))


@pytest.mark.parametrize("text", HOSTILE)
def test_every_character_of_hostile_text_shows_as_typed(text):
    assert unescape(markdown_literal(text)) == text.lstrip()


@pytest.mark.parametrize("char", "\\`*~$|")
def test_characters_that_start_markup_anywhere_are_escaped(char):
    assert markdown_literal(f"a {char}b{char} c") == f"a \\{char}b\\{char} c"


@pytest.mark.parametrize("text, literal", [
    ("a [x](u)", "a [x\\](u)"), ("a ![x](u)", "a ![x\\](u)"), ("a [x] (u)", "a [x] (u)"),
    ("layers[0].out", "layers[0].out"), ("torch.Size([8, 2])", "torch.Size([8, 2])"),
    ("<a href=x>", "\\<a href=x>"), ("</b>", "\\</b>"), ("<!-- c -->", "\\<!-- c -->"),
    ("<http://e>", "\\<http:\u2060//e>"), ("x < 5 and 3 > 2", "x < 5 and 3 > 2"),
    ("&amp; &#60;", "\\&amp; \\&#60;"), ("R & D", "R & D"),
])
def test_links_images_html_and_entities_are_escaped_where_they_start(text, literal):
    assert markdown_literal(text) == literal


@pytest.mark.parametrize("text, literal", [
    ("_it_", "\\_it\\_"), ("a _b", "a \\_b"), ("batch_size", "batch_size"), ("n_per_class", "n_per_class"),
])
def test_underscores_are_escaped_unless_inside_a_word(text, literal):
    assert markdown_literal(text) == literal


@pytest.mark.parametrize("text, literal", [
    ("[x]: http://e", "\\[x]: http:\u2060//e"), ("# h", "\\# h"), ("> q", "\\> q"), ("- i", "\\- i"),
    ("+ i", "\\+ i"), ("==", "\\=="),
    ("12. x", "12\\. x"), ("3) x", "3\\) x"), ("3.", "3\\."), ("3.5 x", "3.5 x"), ("    - i", "\\- i"),
    ("a # b", "a # b"), ("x > 0", "x > 0"), ("a - b", "a - b"), ("version 1.2", "version 1.2"),
])
def test_block_starts_are_escaped_only_at_the_start(text, literal):
    assert markdown_literal(text) == literal


def test_ordinary_sentences_read_the_same():
    message = "epochs: must be an integer from 1 to 100,000 (got 'abc'); see optimizer.lr = 0.1, x > 0."
    assert markdown_literal(message) == message


def test_letters_digits_spaces_and_other_scripts_are_kept():
    assert markdown_literal("Run 3 of Zoë, naïve 猫 😀") == "Run 3 of Zoë, naïve 猫 😀"


def test_a_link_becomes_escaped_brackets():
    assert markdown_literal("[Click here](http://evil/)") == f"\\[Click here\\](http:{WORD_JOINER}//evil/)"


def shown(text: str) -> str:
    """The text node Streamlit's text-level plugins search: escapes resolved, joiners kept."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown_literal(text))


def test_a_directive_label_is_escaped_as_streamlit_drops_it_otherwise():
    assert markdown_literal(":red[x] :foo{y} layers[0]") == f":{WORD_JOINER}red\\[x] :{WORD_JOINER}foo\\{{y}} layers[0]"


def test_directives_icons_and_emoji_shortcodes_are_broken_by_an_invisible_joiner():
    """Streamlit finds `:material_x:`, `:emoji:` and `:streamlit:` in the text after escapes are resolved;
    a directive is a colon followed by a letter."""
    text = ":material/home: :material_home: :smile: :+1: :-1: :streamlit: :red"
    assert not re.search(r":[\w+/-]", shown(text))
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
    assert markdown_literal(3.5) == "3.5" and markdown_literal(ValueError("*a*")) == "\\*a\\*"


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
