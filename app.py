"""Neural Playground entry point and home page: `streamlit run app.py`. Other pages live in pages/."""
import streamlit as st

from playground.ui import home, navigation

st.set_page_config(page_title="Neural Playground", page_icon="🧠", layout="wide")
navigation.navigation()
home.welcome()
home.entries()
home.everything()
home.training_device()  # names the device once the background warm-up (started by navigation) knows it
