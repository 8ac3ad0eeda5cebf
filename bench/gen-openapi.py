#!/usr/bin/env python3
"""Writes one large OpenAPI 3.0 document and a config that serves it, the way big public APIs look.

    gen-openapi.py FOLDER [OPS] [SCHEMAS] [FORMAT]

Defaults: 420 operations over 210 paths, 1,000 component schemas, YAML (FORMAT=json for JSON);
about 4 MB either way. Schemas reference each other ($ref, allOf, oneOf with a discriminator,
arrays of refs, one cycle per 50 schemas), descriptions hold CommonMark with inline HTML, some
paths put a parameter inside a segment (`/files/{name}.json`), and operation 0 (`getResource0`) is
the largest: its response is an object with every schema as a property.
Deterministic: the same arguments write the same bytes.
"""
import json
import os
import random
import re
import sys

folder = sys.argv[1]
ops = int(sys.argv[2]) if len(sys.argv) > 2 else 420
schema_count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
fmt = sys.argv[4] if len(sys.argv) > 4 else "yaml"
rng = random.Random(7)
os.makedirs(folder, exist_ok=True)

WORDS = ("account invoice charge customer refund payout balance transfer dispute event "
         "subscription price product coupon session webhook token card source mandate").split()


def words(count):
    return " ".join(rng.choice(WORDS) for _ in range(count))


def description(count):
    return (f"The {words(3)}. <p>Holds the <code>{rng.choice(WORDS)}</code> of the "
            f"<em>{words(2)}</em>.</p> See [the guide](https://example.com/{rng.choice(WORDS)}) "
            f"for **{words(2)}**. {words(count)}")


def schema(index):
    properties = {
        "id": {"type": "string", "description": "Unique identifier.", "example": f"obj_{index}"},
        "object": {"type": "string", "enum": [f"type{index}"]},
        "created": {"type": "integer", "format": "int64", "minimum": 0},
        "livemode": {"type": "boolean"},
        "amount": {"type": "integer", "minimum": 0, "maximum": 99999999},
        "currency": {"type": "string", "pattern": "^[a-z]{3}$"},
        "email": {"type": "string", "format": "email", "nullable": True},
        "metadata": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 500}},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
    }
    for extra in range(rng.randint(4, 10)):
        properties[f"{rng.choice(WORDS)}_{extra}"] = {
            "type": rng.choice(["string", "integer", "boolean", "number"]),
            "description": description(rng.randint(4, 14)),
        }
    if index > 0:
        properties["parent"] = {"$ref": f"#/components/schemas/Model{rng.randrange(index)}"}
        properties["related"] = {"type": "array", "items": {"$ref": f"#/components/schemas/Model{rng.randrange(index)}"}}
    if index % 50 == 49:
        properties["next"] = {"$ref": f"#/components/schemas/Model{index - 49}", "nullable": True}  # a cycle
    body = {"type": "object", "description": description(20), "required": ["id", "object"], "properties": properties}
    if index % 10 == 9 and index > 2:
        return {"allOf": [{"$ref": f"#/components/schemas/Model{index - 1}"}, body]}
    if index % 25 == 24:
        return {
            "oneOf": [{"$ref": f"#/components/schemas/Model{index - 1}"}, {"$ref": f"#/components/schemas/Model{index - 2}"}],
            "discriminator": {"propertyName": "object"},
        }
    return body


schemas = {f"Model{i}": schema(i) for i in range(schema_count)}
paths = {}
for p in range(ops // 2):
    model = f"#/components/schemas/Model{p % schema_count}"
    item_path = f"/resource{p}/{{id}}.json" if p % 7 == 3 else f"/resource{p}/{{id}}"
    paths[f"/resource{p}"] = {
        "post": {
            "operationId": f"createResource{p}",
            "summary": f"Create a {words(2)}",
            "description": description(30),
            "tags": [f"group{p % 12}"],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": model}}}},
            "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": model}}}},
                          "400": {"description": "Bad request"}},
        }
    }
    paths[item_path] = {
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": {
            "operationId": f"getResource{p}",
            "description": description(30),
            "tags": [f"group{p % 12}"],
            "parameters": [
                {"name": "expand", "in": "query", "style": "form", "explode": True,
                 "schema": {"type": "array", "items": {"type": "string"}}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            ],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": model}}}}},
        },
    }
# The largest operation: every schema, one property each.
paths["/resource0/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
    "type": "object", "properties": {f"m{i}": {"$ref": f"#/components/schemas/Model{i}"} for i in range(schema_count)},
}

document = {
    "openapi": "3.0.3",
    "info": {"title": "Large API", "version": "2026-12-01", "description": description(40)},
    "servers": [{"url": "https://api.example.com/v1"}],
    "paths": paths,
    "components": {"schemas": schemas},
}


def yaml_scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar


def yaml_key(key):
    return key if re.fullmatch(r"[A-Za-z0-9_$/][A-Za-z0-9_./{}$-]*", key) else json.dumps(key)


def write_yaml(value, indent, out):
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{yaml_key(key)}:")
                write_yaml(item, indent + 1, out)
            else:
                out.append(f"{pad}{yaml_key(key)}: {yaml_scalar(item) if not isinstance(item, (dict, list)) else json.dumps(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                lines = []
                write_yaml(item, indent + 1, lines)
                out.append(f"{pad}- {lines[0].strip()}")
                out.extend(lines[1:])
            else:
                out.append(f"{pad}- {yaml_scalar(item)}")


name = f"large.{fmt}"
with open(os.path.join(folder, name), "w") as handle:
    if fmt == "json":
        json.dump(document, handle, indent=1)
    else:
        lines = []
        write_yaml(document, 0, lines)
        handle.write("\n".join(lines) + "\n")

with open(os.path.join(folder, "gateway.yaml"), "w") as handle:
    handle.write(f"""listen: 127.0.0.1:18097
admin: {{listen: 127.0.0.1:19097, token: bench-admin-token-0123456789abcdef}}
store: {{sqlite: {folder}/portico.sqlite}}
server: {{access-log: false, watch-config: false}}
portal: {{path: /portal}}
apis:
  - {{name: large, base-path: /large, openapi: {name}, upstream: mock, validate: enforce}}
""")
print(f"{os.path.join(folder, name)}: {os.path.getsize(os.path.join(folder, name))} bytes, "
      f"{ops} operations, {schema_count} schemas")
