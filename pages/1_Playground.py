"""Playground: pick a dataset, stack layers, choose how to train, and watch it learn live.

A layout of panels from `playground.ui`: the sidebar's data and training settings, the Model column
(layer editor and plan), the live column (controls, live view, inspection or the network inside),
then sharing, export and files. The address bar keeps the setup (`link`).
"""
import streamlit as st

from playground.ui import (
    controls,
    data_panel,
    files_panel,
    inside_panel,
    inspect_panel,
    layer_editor,
    link,
    live_view,
    navigation,
    plan_panel,
    server,
    share_panel,
    training_panel,
)

st.set_page_config(page_title="Playground · Neural Playground", page_icon="🎛️", layout="wide")
navigation.navigation()

server.warm_up()
link.setup_from_link()
st.title("Playground")
link.link_notices()
link.lesson_banner()
with st.sidebar:
    data = data_panel.dataset_section()
    training = training_panel.training_section(data)
is_image = data_panel.is_image(data)

model_col, live_col = st.columns([2, 3], gap="large")
with model_col:
    layers = layer_editor.layer_stack(is_image)
    setup = plan_panel.assess(data, layers, training)
    plan_panel.show_plan(setup)
trainable = setup.trainable
with live_col:
    controls.start_requested(trainable)
    controls.buttons(trainable)
    controls.follow_learning_rate(training["optimizer"]["lr"])
    controls.restart_notice(trainable)
    live_view.live(trainable)
    if inspect_panel.applies(is_image):
        inspect_panel.live()
    else:
        inside_panel.live()
share_panel.share_panel(trainable)
share_panel.export_panel(trainable)
files_panel.config_panel(trainable)
link.write_link(trainable)
