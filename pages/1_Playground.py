"""Playground: pick a dataset, stack layers, choose how to train, and watch it learn live.

A layout of panels from `playground.ui`, one screen while training (`screen`): the run buttons, Speed and
the learning rate, the live view; below them the Model column (layer editor and plan) beside the
inspection or the network inside; the sidebar's data and training settings; then sharing, export and
files. The address bar keeps the setup (`link`).
"""
import streamlit as st

from playground.ui import (
    augment_panel,
    class_handout,
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
    screen,
    share_panel,
    training_panel,
    transfer_panel,
)

st.set_page_config(page_title="Playground · Neural Playground", page_icon="🎛️", layout="wide")
navigation.navigation()  # starts torch's warm-up in the background: nothing here waits for torch

link.setup_from_link()
screen.style()
st.title("Playground")
link.link_notices()
class_handout.playground_bar()  # a class member: the teacher's newer hand-out, one click away
lesson_box = st.container()  # the open lesson's banner: drawn at the end, after Train started its run
# One screen at 1280x720: a row of the run buttons, Speed and the learning rate (it wraps where narrower),
# then the live view; the Model and the look inside the network below. On a phone Train comes first.
run_row = st.container(horizontal=True, vertical_alignment="bottom", gap="small", key="pg_run_row")
buttons_box, speed_box, lr_box = run_row.container(width="content"), run_row.container(width="content"), \
    run_row.container(width=screen.LR_WIDTH)
live_box = st.container(key="pg_live")
model_col, detail_col = st.columns(2, gap="large")
with st.sidebar:
    data = data_panel.dataset_section()
    training = {**training_panel.training_section(data, lr_place=lr_box), **transfer_panel.transfer_section(),
                **augment_panel.augment_section(data)}
is_image = data_panel.is_image(data)
with model_col:
    layers = layer_editor.layer_stack(is_image)
    setup = plan_panel.assess(data, layers, training)
trainable = setup.trainable
with buttons_box:
    controls.start_requested(trainable)
    controls.buttons(trainable)
with speed_box:
    controls.speed()
with model_col:  # after the buttons: its table is the page's first use of pandas, so Train shows sooner
    plan_panel.show_plan(setup)
controls.follow_learning_rate(training["optimizer"]["lr"])
with live_box:
    controls.restart_notice(trainable)
    live_view.live(trainable)
with detail_col:
    if inspect_panel.applies(is_image):
        inspect_panel.live()
    else:
        inside_panel.live()
share_panel.share_panel(trainable)
share_panel.export_panel(trainable)
files_panel.config_panel(trainable)
link.write_link(trainable)
with lesson_box:  # last: the question can be clicked only once every other widget of this run has been sent
    link.lesson_banner()
