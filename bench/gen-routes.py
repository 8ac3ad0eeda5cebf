#!/usr/bin/env python3
"""Writes a config with APIS OpenAPI documents of OPS operations each (default 50 x 20 = 1000 routes)."""
import os
import sys

folder, apis, ops, version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
os.makedirs(os.path.join(folder, "specs"), exist_ok=True)
config = [
    "listen: 127.0.0.1:18096",
    "admin:",
    "  listen: 127.0.0.1:19096",
    "  token: bench",
    "store:",
    f"  sqlite: {folder}/portico.sqlite",
    "server:",
    "  access-log: false",
    "  watch-config: false",
    "apis:",
]
for a in range(apis):
    lines = [
        "openapi: 3.0.3",
        f"info: {{title: API {a}, version: '{version}'}}",
        "servers: [{url: 'https://api.example.com/v1'}]",
        "paths:",
    ]
    for p in range(ops // 2):
        lines += [
            f"  /resource{p}/{{id}}:",
            "    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]",
        ]
        for method in ("get", "put"):
            lines += [
                f"    {method}:",
                f"      operationId: {method}Resource{a}x{p}",
                "      responses:",
                "        '200':",
                "          description: ok",
                "          content:",
                "            application/json:",
                "              schema: {$ref: '#/components/schemas/Item'}",
            ]
    lines += [
        "components:",
        "  schemas:",
        "    Item:",
        "      type: object",
        "      properties:",
        "        id: {type: integer, example: 1}",
        f"        name: {{type: string, example: item-{version}}}",
        "        tags: {type: array, items: {type: string}}",
    ]
    with open(os.path.join(folder, "specs", f"api{a}.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    config += [f"  - {{name: api{a}, base-path: /api{a}, openapi: specs/api{a}.yaml, upstream: mock}}"]
with open(os.path.join(folder, "gateway.yaml"), "w") as f:
    f.write("\n".join(config) + "\n")
