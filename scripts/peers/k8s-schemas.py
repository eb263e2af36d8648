#!/usr/bin/env python3
"""Kubernetes and CRD JSON schemas for kubeconform, made offline.

kubeconform's default schemas live on a web site the tests cannot reach; these are made from
sources the Go module proxy serves instead:

  swagger.json (k8s.io/kubernetes api/openapi-spec)  ─┐
  CRD YAML (KServe's, prometheus-operator's)          ─┴─▶ OUT/<kind>-<group>-<version>.json

Every schema is standalone (every $ref inlined) and strict (objects with declared properties
reject unknown ones, as `kubectl --validate=strict` does), named as kubeconform's location
template `{{ .ResourceKind }}{{ .KindSuffix }}.json` expects: the kind in lower case, then the
first label of the API group (none for the core group), then the version.

  k8s-schemas.py OUT --swagger swagger.json --crd a.yaml --crd b.yaml
"""
import argparse
import copy
import json
import os
import sys

import yaml


def file_name(kind, group, version):
    suffix = f"-{group.split('.')[0].lower()}" if group else ""
    return f"{kind.lower()}{suffix}-{version.lower()}.json"


def strict(node):
    """Unknown fields are errors where the schema lists the known ones (and does not opt out)."""
    if isinstance(node, dict):
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for v in node.values():
            strict(v)
    elif isinstance(node, list):
        for v in node:
            strict(v)
    return node


def int_or_string(node):
    if isinstance(node, dict):
        if node.get("format") == "int-or-string" or node.get("x-kubernetes-int-or-string"):
            return {"oneOf": [{"type": "string"}, {"type": "integer"}]}
        return {k: int_or_string(v) for k, v in node.items()}
    if isinstance(node, list):
        return [int_or_string(v) for v in node]
    return node


def inline(node, definitions, seen=()):
    """Replaces every $ref with its definition; a definition that refers to itself stops as {}."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            name = ref[len("#/definitions/"):]
            if name in seen:
                return {}
            target = definitions[name]
            return inline(target, definitions, seen + (name,))
        return {k: inline(v, definitions, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [inline(v, definitions, seen) for v in node]
    return node


def write(out, name, schema):
    schema = strict(int_or_string(copy.deepcopy(schema)))
    schema["$schema"] = "http://json-schema.org/schema#"
    with open(os.path.join(out, name), "w") as f:
        json.dump(schema, f)


def from_swagger(out, path, kinds):
    with open(path) as f:
        definitions = json.load(f)["definitions"]
    count = 0
    for name, definition in definitions.items():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            if kinds and gvk["kind"] not in kinds:
                continue
            write(out, file_name(gvk["kind"], gvk["group"], gvk["version"]), inline(definition, definitions, (name,)))
            count += 1
    return count


def from_crd(out, path):
    count = 0
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec.get("versions", []):
                schema = (version.get("schema") or {}).get("openAPIV3Schema")
                if schema is None:
                    continue
                write(out, file_name(spec["names"]["kind"], spec["group"], version["name"]), schema)
                count += 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--swagger")
    parser.add_argument("--crd", action="append", default=[])
    parser.add_argument("--kind", action="append", default=[], help="only these core kinds (default: all)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    count = from_swagger(args.out, args.swagger, set(args.kind)) if args.swagger else 0
    for crd in args.crd:
        count += from_crd(args.out, crd)
    print(f"{count} schemas in {args.out}")
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main())
