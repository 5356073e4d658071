"""The nginx configuration in front of the replicas: sticky sessions, websockets, failover.

`render(listen, port, replicas, folder)` returns the text of nginx.conf for Debian's nginx run in the
foreground (`nginx -p FOLDER -c FOLDER/nginx.conf`), its pid file, temp folders and logs in `folder`.
Each replica is "host:port", numbered from 1: a cookie names the replica that serves a browser (its own
upstream, with the others as backups), a browser without one goes to any. The comments in the text say
why each setting is there. Knows nothing
about starting nginx (deploy/school.py does) or about the app beyond Streamlit's paths.
"""
from __future__ import annotations

from pathlib import Path

AFFINITY_COOKIE = "playground_replica"  # names the replica that serves a browser: 1, 2, ...
REPLICA_HEADER = "X-Playground-Replica"  # which replica answered: 1, 2, ... (0 when none did)
UPLOAD_MB = 60  # Streamlit's own limit is server.maxUploadSize = 50 MB (.streamlit/config.toml), plus room

TEMPLATE = """\
# Written by deploy/school.py on every `up`: edit the script's options, not this file.
daemon off;              # the deployment runs nginx as a child it records (state/services/nginx.json)
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;

events {{
    worker_connections 1024;  # every open tab holds one websocket
}}

http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    client_max_body_size {upload_mb}m;

    # Sticky sessions. Streamlit keeps a browser's session (its widgets, its run handle, its uploads
    # at /_stcore/upload_file and its media) in the memory of the replica the websocket
    # (/_stcore/stream) reached, so every request of one browser must reach the same replica. A
    # cookie names the replica that last answered this browser: a browser without one goes to any
    # replica (round robin), and every response whose replica is not the one the cookie names sets the
    # cookie to it. So after a failover the browser stays on the replica that now holds its session,
    # also once its old replica is back (a hash of the cookie would send its uploads back there).
    map $cookie_{cookie} $route {{
        default playground;
{routes}
    }}
    map "$cookie_{cookie}:$replica" $affinity_cookie {{
        "~^([1-9][0-9]*):\\1$" "";  # the cookie names the replica that answered: nothing to set
        "~:0$"                 "";  # no replica answered
        default "{cookie}=$replica; Path=/; HttpOnly; SameSite=Lax";
    }}

    # Websockets: pass the upgrade on (Connection: upgrade only when the browser asked for one).
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ""      close;
    }}

    # Which replica answered (the last address tried), for operators and the replica test.
    map $upstream_addr $replica {{
        default 0;
{replica_names}
    }}

    # A replica that refuses a connection is skipped for 10 s; its browsers go to the next one (the
    # backups), whose page opens afresh (saved runs are in the shared store; what was only on the page is lost).
    upstream playground {{
{servers}
    }}
{replica_upstreams}

    server {{
        listen {listen}:{port};

        location / {{
            proxy_pass http://$route;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;  # with the port: Streamlit checks the websocket's Origin
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 1h;   # a websocket is quiet while a student reads; the default 60 s drops it
            proxy_send_timeout 1h;
            proxy_buffering off;     # live charts arrive as they are sent
            proxy_next_upstream error timeout;  # a dead replica: try the next (never after a reply began)
            proxy_connect_timeout 5s;
            add_header Set-Cookie $affinity_cookie always;
            add_header {header} $replica always;
        }}
    }}
}}
"""


def render(listen: str, port: int, replicas: list[str], folder: Path) -> str:
    """nginx.conf for nginx listening on `listen`:`port` in front of `replicas` ("host:port", numbered from 1)."""
    names = "\n".join(f'        "~(^|, ){_regex(address)}$" {n};' for n, address in enumerate(replicas, 1))
    routes = "\n".join(f'        "{n}" replica{n};' for n in range(1, len(replicas) + 1))
    upstreams = "\n".join(f"    upstream replica{n} {{\n{_servers(replicas, first=n - 1)}\n    }}"
                           for n in range(1, len(replicas) + 1))
    return TEMPLATE.format(folder=folder, upload_mb=UPLOAD_MB, cookie=AFFINITY_COOKIE, replica_names=names,
                           routes=routes, servers=_servers(replicas), replica_upstreams=upstreams,
                           listen=f"[{listen}]" if ":" in listen else listen, port=port,
                           header=REPLICA_HEADER)


def _servers(replicas: list[str], first: int | None = None) -> str:
    """`server` lines: every replica alike, or replica `first` with the others as its backups."""
    lines = [f"        server {address} max_fails=1 fail_timeout=10s{'' if first in (None, n) else ' backup'};"
             for n, address in enumerate(replicas)]
    return "\n".join(lines)


def _regex(address: str) -> str:
    return address.replace(".", r"\.")
