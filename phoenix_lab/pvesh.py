"""The lab's `pvesh`: the API paths without HTTP, printing canonical JSON as pvesh does (proxmoxer `local` backend)."""
from __future__ import annotations

import json
import sys

from phoenix_lab.api_routes import Api, ApiError
from phoenix_lab.paths import LabPaths

VERBS = {"get": "GET", "set": "PUT", "create": "POST", "delete": "DELETE"}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] not in VERBS:
        print("USAGE: pvesh <get|set|create|delete> <api_path> [OPTIONS] [--output-format json]", file=sys.stderr)
        return 255
    verb, path, rest = VERBS[args[0]], args[1], args[2:]
    params: dict[str, str] = {}
    output_format = "json"
    i = 0
    while i < len(rest):
        key = rest[i].lstrip("-")
        value = rest[i + 1] if i + 1 < len(rest) else ""
        if "=" in key:
            key, value = key.split("=", 1)
            i -= 1
        if key == "output-format":
            output_format = value
        else:
            params[key] = value
        i += 2
    try:
        data = Api(LabPaths.default()).handle(verb, path, params)
    except ApiError as exc:
        print(f"{exc.status} {exc.message}", file=sys.stderr)
        if exc.errors:
            for key, msg in exc.errors.items():
                print(f"{key}: {msg}", file=sys.stderr)
        return 255
    except (OSError, ValueError) as exc:  # unreadable state, malformed file: PVE's die -> 500, never a traceback
        print(f"500 {exc}", file=sys.stderr)
        return 255
    if data is not None:
        print(render(data, output_format))
    return 0


def render(data: object, output_format: str) -> str:
    """JSON::XS canonical output: compact for `json`, 3-space indent and ` : ` for `json-pretty` (other formats: json)."""
    if output_format == "json-pretty":
        return json.dumps(data, sort_keys=True, indent=3, separators=(",", " : "), ensure_ascii=False)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


if __name__ == "__main__":
    sys.exit(main())
