"""AppTest helpers for the Playground's popovers and the Data section, which draw their widgets only while
open (`playground.ui.lazy_blocks`): a test opens one as a person's click would, then finds its widgets."""
from streamlit.testing.v1 import AppTest


def open_popover(app: AppTest, key: str) -> AppTest:
    """Open the popover or expander under `key` (its open state is a widget value) and rerun the page;
    one open already stays as it is."""
    try:
        if app.session_state[key]:
            return app
    except KeyError:
        pass
    app.session_state[key] = True
    return app.run()


def open_chip(app: AppTest, layer_id: int) -> AppTest:
    """Open the editor of the layer with this id (its chip in the Model row)."""
    return open_popover(app, f"pg_chip_{layer_id}")


def open_add(app: AppTest) -> AppTest:
    """Open the "Add layer" popover."""
    return open_popover(app, "pg_add_popover")


def open_insert(app: AppTest, slot: int) -> AppTest:
    """Open the "+" before place `slot` (0: the first) of the Model row."""
    return open_popover(app, f"pg_insert_{slot}")


def open_data(app: AppTest) -> AppTest:
    """Open the sidebar's Data section (folded, a toy dataset's widgets are not drawn)."""
    return open_popover(app, "pg_data_box")
