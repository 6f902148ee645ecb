#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check a YNL genetlink spec against the kernel's schema and our uAPI header.

  ynl-check.py KERNEL-SRC SPEC UAPI-INCLUDE-DIR

1. The kernel's own YNL loader (tools/net/ynl/pyynl) validates SPEC with
   jsonschema against Documentation/netlink/genetlink.yaml of KERNEL-SRC
   and resolves every reference in it.
2. Every attribute set, attribute, operation and definition has a doc.
3. Every name in SPEC has the same value in the uAPI header (compiled with
   gcc: one static assertion per name, plus the *_MAX values).
Prints what is wrong and exits 1, or prints nothing.
"""
import os
import subprocess
import sys


def c_name(prefix, name):
    """C name of a spec name: PREFIX-NAME upper-cased, - turned into _."""
    if prefix and not prefix.endswith("-"):
        prefix += "-"
    return (prefix + name).upper().replace("-", "_")


def main():
    src, spec_path, inc = sys.argv[1:4]
    sys.path.insert(0, os.path.join(src, "tools/net/ynl/pyynl"))
    from lib import SpecFamily  # noqa: E402, pylint: disable=import-error

    schema = os.path.join(src, "Documentation/netlink/genetlink.yaml")
    try:
        fam = SpecFamily(spec_path, schema_path=schema)
    except Exception as e:  # pylint: disable=broad-except
        print("%s: not valid against %s: %s" % (spec_path, schema, e))
        return 1

    errors = []
    y = fam.yaml
    fname = y["name"]
    for d in y.get("definitions", []):
        if not d.get("doc"):
            errors.append("definition %s has no doc" % d["name"])
    for s in y.get("attribute-sets", []):
        if not s.get("doc"):
            errors.append("attribute set %s has no doc" % s["name"])
        for a in s["attributes"]:
            if not a.get("doc"):
                errors.append("attribute %s/%s has no doc" %
                              (s["name"], a["name"]))
    for op in y["operations"]["list"]:
        if not op.get("doc"):
            errors.append("operation %s has no doc" % op["name"])

    checks = []
    for d in y.get("definitions", []):
        if d["type"] == "const":
            checks.append((c_name(fname, d["name"]), d["value"]))
        elif d["type"] == "enum":
            prefix = d.get("name-prefix", "%s-%s-" % (fname, d["name"]))
            v = d.get("value-start", 0)
            for e in d["entries"]:
                if isinstance(e, dict):
                    if not e.get("doc"):
                        errors.append("enum entry %s/%s has no doc" %
                                      (d["name"], e["name"]))
                    e = e["name"]
                checks.append((c_name(prefix, e), v))
                v += 1
    for name, aset in fam.attr_sets.items():
        prefix = aset.yaml.get("name-prefix", "%s-a-%s-" % (fname, name))
        last = 0
        for a in aset.attrs.values():
            checks.append((c_name(prefix, a.name), a.value))
            last = max(last, a.value)
        checks.append((c_name(prefix, "max"), last))
    oprefix = y["operations"].get("name-prefix", "%s-cmd-" % fname)
    last = 0
    for op in fam.msgs.values():
        checks.append((c_name(oprefix, op.name), op.value))
        last = max(last, op.value)
    checks.append((c_name(oprefix, "max"), last))

    prog = "#include <%s>\n" % y.get("uapi-header", "linux/%s.h" % fname)
    for n, v in checks:
        prog += '_Static_assert(%s == %s, "%s is not %s as in the spec");\n' % (
            n, v, n, v)
    r = subprocess.run(["gcc", "-fsyntax-only", "-x", "c", "-I", inc, "-"],
                       input=prog, text=True, capture_output=True,
                       check=False)
    if r.returncode:
        errors.append("uAPI header disagrees with %s:\n%s" %
                      (spec_path, r.stderr.strip()))
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
