"""The Streamlit layer: the only package of `playground` that imports Streamlit.

One module per concern or panel; panels define functions and run no Streamlit call at import time.
Import the module you need (`from playground.ui import session`); this file imports nothing.

- `server`: per-process shared resources (torch warm-up, datasets, training pool, run store, the
  default digit model); every session sees the same objects.
- `workspace`: this browser's workspace token (its saved runs), kept in a cookie.
- `navigation`: the page links every page starts with.
- `session`: this browser session's runs (start, find, discard), the repeated-click guard, and
  the live-polling fragment.
- `uploads`: reading an uploaded checkpoint into a model, with the reason when it cannot be read.
- The Playground's panels: `widget_state`, `link`, `data_panel`, `table_panel`, `training_panel`,
  `layer_editor`, `plan_panel`, `controls`, `live_view`, `inspect_panel`, `inside_panel`,
  `share_panel`, `files_panel`, `screen` (the page's CSS); the other pages': `draw_model`, `draw_panel`,
  `race_view`, `runs_panel`.
"""
