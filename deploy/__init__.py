"""A school's deployment on one machine: a Ray head, PostgreSQL, Streamlit replicas and nginx in front.

`python -m deploy.school up|down|status --state DIR` (deploy/school.py) starts, stops and reports them;
README "Holding a school" explains the pieces. Knows nothing about training or storing runs: it starts
the app's processes with the environment variables the app reads (playground/settings.py).
"""
