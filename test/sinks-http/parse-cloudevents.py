"""Parses HTTP requests captured by the test with the CloudEvents Python SDK (cloudevents 1.x).

stdin: JSON list of {"headers": [[name, value], ...], "body_b64": "..."}
stdout: JSON list of parsed events: every attribute the SDK read, and data (JSON value, or {"b64": ...} for bytes).
A batch (application/cloudevents-batch+json) is a JSON array of structured events: each element is parsed
as a structured-mode request of its own, since the 1.x SDK has no batch reader.
"""
import base64
import json
import sys

from cloudevents.http import from_http


def describe(event):
    out = {name: value for name, value in event.get_attributes().items()}
    data = event.data
    out["data"] = {"b64": base64.b64encode(data).decode()} if isinstance(data, (bytes, bytearray)) else data
    return out


def main():
    parsed = []
    for req in json.load(sys.stdin):
        headers = {name: value for name, value in req["headers"]}
        body = base64.b64decode(req["body_b64"])
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if ctype.startswith("application/cloudevents-batch+json"):
            for element in json.loads(body):
                structured = {"content-type": "application/cloudevents+json"}
                parsed.append(describe(from_http(structured, json.dumps(element).encode())))
        else:
            parsed.append(describe(from_http(headers, body)))
    json.dump(parsed, sys.stdout, default=str)


main()
