"""A qdrant-compatible REST server for the subset the suite needs, backed by qdrant-client's local engine.

Responses use qdrant's envelope `{"result": ..., "status": "ok", "time": seconds}`; data persists under the
CT's dedicated volume (/qdrant/storage), as the real container's storage does.
"""
from __future__ import annotations

import argparse
import time
from typing import Any

from httpbase import Handler, serve, tcp_listener

CLIENT: Any = None


def ok(handler: Handler, result: Any, started: float, status: int = 200) -> None:
    handler.send_json(status, {"result": result, "status": "ok", "time": round(time.monotonic() - started, 6)})


def fail(handler: Handler, status: int, message: str, started: float) -> None:
    handler.send_json(status, {"status": {"error": message}, "time": round(time.monotonic() - started, 6)})


class QdrantHandler(Handler):
    server_version = "qdrant"

    def route(self, method: str, path: str) -> str | None:
        parts = [p for p in path.split("/") if p]
        if method in ("GET", "HEAD") and path in ("/healthz", "/livez", "/readyz"):
            return "health"
        if method == "GET" and path == "/":
            return "root"
        if parts[:1] == ["collections"]:
            if len(parts) == 1 and method == "GET":
                return "list_collections"
            if len(parts) == 2:
                return {"GET": "get_collection", "PUT": "create_collection", "DELETE": "delete_collection"}.get(method)
            if len(parts) == 3 and parts[2] == "points" and method == "PUT":
                return "upsert"
            if len(parts) == 4 and parts[2] == "points" and parts[3] in ("search", "query") and method == "POST":
                return "search"
        return None

    def not_found(self) -> None:
        self.send_text(404, "404 Not Found")

    def health(self) -> None:
        self.send_text(200, "healthz check passed")

    def root(self) -> None:
        self.send_json(200, {"title": "qdrant - vector search engine", "version": "1.15.0"})

    @property
    def name(self) -> str:
        return [p for p in self.path_only.split("/") if p][1]

    def list_collections(self) -> None:
        start = time.monotonic()
        ok(self, {"collections": [{"name": c.name} for c in CLIENT.get_collections().collections]}, start)

    def get_collection(self) -> None:
        start = time.monotonic()
        if not CLIENT.collection_exists(self.name):
            fail(self, 404, f"Not found: Collection `{self.name}` doesn't exist!", start)
            return
        info = CLIENT.get_collection(self.name)
        vectors = info.config.params.vectors
        ok(self, {"status": "green", "optimizer_status": "ok", "points_count": info.points_count or 0,
                  "indexed_vectors_count": 0, "segments_count": 1,
                  "config": {"params": {"vectors": {"size": vectors.size, "distance": vectors.distance.value},
                                        "shard_number": 1, "replication_factor": 1, "on_disk_payload": True}}}, start)

    def create_collection(self) -> None:
        from qdrant_client import models

        start = time.monotonic()
        body = self.body_json() or {}
        vectors = body.get("vectors") or {}
        try:
            size, distance = int(vectors["size"]), str(vectors.get("distance", "Cosine"))
        except (KeyError, TypeError, ValueError):
            fail(self, 422, "Validation error in JSON body: [vectors]: missing size", start)
            return
        if CLIENT.collection_exists(self.name):
            fail(self, 409, f"Wrong input: Collection `{self.name}` already exists!", start)
            return
        CLIENT.create_collection(self.name, vectors_config=models.VectorParams(size=size, distance=models.Distance(distance)))
        ok(self, True, start)

    def delete_collection(self) -> None:
        start = time.monotonic()
        ok(self, CLIENT.delete_collection(self.name), start)

    def upsert(self) -> None:
        from qdrant_client import models

        start = time.monotonic()
        body = self.body_json() or {}
        try:
            points = [models.PointStruct(id=p["id"], vector=p["vector"], payload=p.get("payload") or {}) for p in body["points"]]
            CLIENT.upsert(self.name, points=points)
        except Exception as exc:  # noqa: BLE001 - qdrant answers any bad input with a 400 envelope
            fail(self, 400, f"Bad request: {exc}", start)
            return
        ok(self, {"operation_id": 0, "status": "completed"}, start)

    def search(self) -> None:
        start = time.monotonic()
        body = self.body_json() or {}
        vector = body.get("vector") or body.get("query")
        try:
            hits = CLIENT.query_points(self.name, query=vector, limit=int(body.get("limit", 10)), with_payload=True).points
        except Exception as exc:  # noqa: BLE001 - as above
            fail(self, 400, f"Bad request: {exc}", start)
            return
        result = [{"id": h.id, "version": 0, "score": h.score, "payload": h.payload} for h in hits]
        ok(self, result if self.path_only.endswith("/search") else {"points": result}, start)


def ensure_collection(spec: str) -> None:
    """`name:size[:distance]` from the provisioning plan: created once, never resized."""
    from qdrant_client import models

    name, size, *rest = spec.split(":")
    if not CLIENT.collection_exists(name):
        distance = models.Distance(rest[0] if rest else "Cosine")
        CLIENT.create_collection(name, vectors_config=models.VectorParams(size=int(size), distance=distance))


def main() -> None:
    global CLIENT
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=6333)
    p.add_argument("--grpc-port", type=int, default=6334)
    p.add_argument("--storage", default="/qdrant/storage")
    p.add_argument("--collection", action="append", default=[], help="name:size[:distance] to create at start")
    args = p.parse_args()
    from qdrant_client import QdrantClient

    CLIENT = QdrantClient(path=args.storage)
    for spec in args.collection:
        ensure_collection(spec)
    tcp_listener(args.host, args.grpc_port)
    serve(QdrantHandler, args.host, args.port)


if __name__ == "__main__":
    main()
