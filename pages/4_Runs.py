"""Runs: every finished run of this browser, kept across restarts; overlay their curves, see their final
boundaries side by side and what differs."""
import streamlit as st

from playground.ui import navigation, runs_boundaries, runs_panel

st.set_page_config(page_title="Runs · Neural Playground", page_icon="📈", layout="wide")
navigation.navigation()

st.title("Runs")
st.caption("Every run that finished in this browser is saved here, also across server restarts "
           "(this browser keeps the key to them; a copied address does not hand them out). Pick runs to "
           "overlay their curves and see which settings differ.")
runs_panel.messages()
records = runs_panel.saved_runs()
if not records:
    st.info("No saved runs yet: train a model in the Playground, or start the optimizer race on the Lessons page.",
            icon=":material/info:")
    st.stop()
chosen = runs_panel.pick(records)
if not chosen:
    st.caption("Pick one or more runs above to compare them.")
    st.stop()
left, right = st.columns(2)
with left:
    runs_panel.overlay(chosen, "train_loss", "rn_loss")
with right:
    runs_panel.overlay(chosen, "test_score", "rn_score")
runs_boundaries.boundaries(chosen)
st.subheader("What differs")
runs_panel.differences(chosen)
with st.expander("Open, rename or delete", icon=":material/settings:", key="rn_manage"):
    runs_panel.open_links(chosen)
    runs_panel.manage(chosen)
