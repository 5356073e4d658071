"""Neural Playground entry point and home page: `streamlit run app.py`. Other pages live in pages/."""
import streamlit as st

from playground.ui import navigation, server

st.set_page_config(page_title="Neural Playground", page_icon="🧠", layout="wide")
navigation.navigation()
st.title("Neural Playground")
st.markdown(
    "Build a neural network layer by layer, pick a loss, an optimizer and a learning rate, and "
    "train it with **real PyTorch** while the loss, the accuracy and the decision boundary update "
    "live. Start with the classic: a linear model gets about half of the spiral right; add a "
    "hidden ReLU layer and it gets about 95%."
)
st.page_link("pages/3_Lessons.py", label="Start with a lesson: the classic examples, one click each", icon="🎓")
st.page_link("pages/1_Playground.py", label="Open the Playground", icon="🎛️")
st.page_link("pages/2_Draw.py", label="Draw a digit and see what a CNN thinks it is", icon="✏️")
st.markdown(
    "- **Datasets**: spiral, circles, XOR, Gaussian blobs, moons, coffee-roast quality, "
    "linear regression y = 2x and a sine curve, each with seed, size, noise and a train/test split; "
    "MNIST, Fashion-MNIST and 8x8 digits (offline too).\n"
    "- **Layers**: Linear, ReLU, LeakyReLU, Tanh, Sigmoid, GELU, ELU, Softmax, LogSoftmax, "
    "Dropout, BatchNorm1d, Conv2d, pooling, Flatten, Dropout2d, BatchNorm2d and a residual block; "
    "sizes are inferred where they can be.\n"
    "- **Inspect**: a CNN's confusion matrix, per-class scores, its mistakes and its filters; an MLP's "
    "weights as a network diagram and each hidden neuron's output as a small map.\n"
    "- **Your data**: upload a CSV, pick the label and the features; download any dataset as CSV.\n"
    "- **Share and compare**: the address bar holds the whole setup (a teacher's link can hide controls); "
    "every finished run is saved, so the Runs page can overlay and compare them; export a standalone "
    "PyTorch script of any setup.\n"
    "- **Training**: cross-entropy, NLL, BCE, BCE with logits, MSE, L1, Huber; SGD (momentum, Nesterov), "
    "Adam, AdamW, RMSprop, Adagrad, Adadelta; step and cosine schedules; change the learning rate while "
    "it trains.\n"
    "- **Same run anywhere**: download the config JSON and train it headlessly with "
    "`python -m playground train config.json`, or save the model and query it with "
    "`python -m playground predict model.pt X1 X2`."
)
device = server.warm_up()
st.info(f"Training runs on **{device}**.", icon="🖥️")
