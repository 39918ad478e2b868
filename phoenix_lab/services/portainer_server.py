"""A Portainer stand-in: HTTPS on 9443 with the portainer.phoenix.local certificate, API status and a WebSocket."""
from __future__ import annotations

import argparse

from httpbase import Handler, serve, tcp_listener

UI = "<!DOCTYPE html><html><head><title>Portainer</title></head><body><div id=\"view\">Portainer</div></body></html>"


class PortainerHandler(Handler):
    server_version = "portainer"

    def route(self, method: str, path: str) -> str | None:
        if method == "GET" and path.startswith("/api/websocket/"):
            return "websocket"
        return {("GET", "/"): "ui", ("GET", "/api/status"): "status", ("GET", "/api/system/status"): "status"}.get((method, path))

    def ui(self) -> None:
        self.send_text(200, UI, "text/html; charset=utf-8")

    def status(self) -> None:
        self.send_json(200, {"Version": "2.21.0", "InstanceID": "phoenix-lab"})

    def websocket(self) -> None:
        if not self.websocket_accept():
            self.send_json(400, {"message": "WebSocket upgrade required"})


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=9443)
    p.add_argument("--agent-port", type=int, default=9001)
    p.add_argument("--cert", default="/certs/portainer.phoenix.local.crt")
    p.add_argument("--key", default="/certs/portainer.phoenix.local.key")
    args = p.parse_args()
    tcp_listener(args.host, args.agent_port)
    serve(PortainerHandler, args.host, args.port, args.cert, args.key)


if __name__ == "__main__":
    main()
