"""`python -m tests.e2e.refresh_docs` names real browser tests and drawing scripts, and they cover every picture in
docs/."""
import ast

from refresh_docs import DOCS, DRAWN, PICTURES, ROOT


def test_every_picture_in_docs_comes_from_a_named_browser_test_that_takes_screenshots():
    named = [n for names in {**PICTURES, **DRAWN}.values() for n in names]
    assert sorted(named) == sorted(p.name for p in DOCS.glob("*.png"))
    for module in DRAWN:
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), f"{module} does not exist"
    for test in PICTURES:
        path, name = test.split("::")
        functions = {node.name: node for node in ast.walk(ast.parse((ROOT / path).read_text()))
                     if isinstance(node, ast.FunctionDef)}
        assert name in functions, f"{test} does not exist"
        assert "screenshots" in [arg.arg for arg in functions[name].args.args], f"{test} takes no screenshots"
