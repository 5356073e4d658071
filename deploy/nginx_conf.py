"""The nginx configuration in front of the replicas: sticky sessions, websockets, failover.

`render(listen, port, replicas, folder)` returns the text of nginx.conf for Debian's nginx run in the
foreground (`nginx -p FOLDER -c FOLDER/nginx.conf`), its pid file, temp folders and logs in `folder`.
Each replica is "host:port"; the comments in the text say why each setting is there. Knows nothing
about starting nginx (deploy/school.py does) or about the app beyond Streamlit's paths.
"""
from __future__ import annotations

from pathlib import Path

AFFINITY_COOKIE = "playground_replica"  # the cookie nginx hashes to pick a browser's replica
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
    # (/_stcore/stream) reached, so every request of one browser must reach the same replica. The key
    # is a cookie nginx sets on the first response ($request_id, random); a browser without it yet is
    # placed by that same value, so its cookie later points to the replica that served it. Consistent
    # hashing: adding or losing a replica moves only the browsers that were on it.
    map $cookie_{cookie} $affinity {{
        ""      $request_id;
        default $cookie_{cookie};
    }}
    map $cookie_{cookie} $affinity_cookie {{
        ""      "{cookie}=$request_id; Path=/; HttpOnly; SameSite=Lax";
        default "";
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

    upstream playground {{
        hash $affinity consistent;
        # A replica that refuses a connection is skipped for 10 s: its browsers go to another replica,
        # whose page opens afresh (saved runs are in the shared store; what was only on the page is lost).
{servers}
    }}

    server {{
        listen {listen}:{port};

        location / {{
            proxy_pass http://playground;
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
    servers = "\n".join(f"        server {address} max_fails=1 fail_timeout=10s;" for address in replicas)
    names = "\n".join(f'        "~(^|, ){_regex(address)}$" {n};' for n, address in enumerate(replicas, 1))
    return TEMPLATE.format(folder=folder, upload_mb=UPLOAD_MB, cookie=AFFINITY_COOKIE, replica_names=names,
                           servers=servers, listen=f"[{listen}]" if ":" in listen else listen, port=port,
                           header=REPLICA_HEADER)


def _regex(address: str) -> str:
    return address.replace(".", r"\.")
