#!/usr/bin/env python3
"""The public API of a crate as sorted lines, from rustdoc's JSON output.

    python3 crates/mayexec/api/listing.py target/doc/mayexec.json

One line per public item, by the path a user writes: modules, types with
their attributes (`#[non_exhaustive]`, `#[repr]`), public fields, variants,
functions and methods with their signatures, constants, and the traits each
type implements (derived or written; auto traits and blanket impls left out,
since they follow from the rest). rustdoc leaves `#[doc(hidden)]` items
(`mayexec::__bench`) out. check.sh, beside this file, compares the listing
with the committed one (mayexec.txt); docs/testing.md says why.
"""

import json
import sys

doc = json.load(open(sys.argv[1]))
if doc["format_version"] != 57:
    # Written against Rust 1.95's format: a newer one may reword lines (the
    # diff says so) or need this script taught a new shape.
    print(f"listing.py: rustdoc JSON format {doc['format_version']}, written for 57",
          file=sys.stderr)
index = doc["index"]
paths = doc["paths"]
# Public path of each local item, filled by the walk (a type re-exported at
# the root is named there, not by its private module).
public = {}
lines = set()
visited = set()


def item(id_):
    return index.get(str(id_))


def kind_of(it):
    return next(iter(it["inner"]))


def attrs(it):
    out = []
    for a in it.get("attrs", []):
        if a == "non_exhaustive" or (isinstance(a, dict) and "non_exhaustive" in a):
            out.append("#[non_exhaustive]")
        elif isinstance(a, dict) and "repr" in a:
            out.append("#[repr(" + json.dumps(a["repr"], sort_keys=True) + ")]")
    return " ".join(out) + " " if out else ""


def path_of(id_, written):
    if id_ is not None and id_ in public:
        return public[id_]
    p = paths.get(str(id_)) if id_ is not None else None
    if p:
        return "::".join(p["path"])
    return written


def args(a):
    if not a:
        return ""
    if "angle_bracketed" in a:
        ab = a["angle_bracketed"]
        parts = []
        for g in ab["args"]:
            if "type" in g:
                parts.append(ty(g["type"]))
            elif "lifetime" in g:
                parts.append(g["lifetime"])
            elif "const" in g:
                parts.append(g["const"].get("expr", "_"))
            else:
                parts.append("_")
        for c in ab.get("constraints", []):
            b = c["binding"]
            rhs = ty(b["equality"]["type"]) if "equality" in b and "type" in b["equality"] else "…"
            parts.append(f"{c['name']} = {rhs}")
        return "<" + ", ".join(parts) + ">" if parts else ""
    if "parenthesized" in a:
        p = a["parenthesized"]
        out = "(" + ", ".join(ty(t) for t in p["inputs"]) + ")"
        if p.get("output"):
            out += " -> " + ty(p["output"])
        return out
    return ""


def bound(b):
    if "trait_bound" in b:
        t = b["trait_bound"]["trait"]
        mod = "?" if b["trait_bound"].get("modifier") == "maybe" else ""
        return mod + path_of(t["id"], t["path"]) + args(t.get("args"))
    if "outlives" in b:
        return b["outlives"]
    return "_"


def ty(t):
    if t is None:
        return "()"
    k, v = next(iter(t.items()))
    if k == "resolved_path":
        return path_of(v["id"], v["path"]) + args(v.get("args"))
    if k == "primitive":
        return v
    if k == "generic":
        return v
    if k == "borrowed_ref":
        lt = v["lifetime"] + " " if v["lifetime"] else ""
        return "&" + lt + ("mut " if v["is_mutable"] else "") + ty(v["type"])
    if k == "raw_pointer":
        return ("*mut " if v["is_mutable"] else "*const ") + ty(v["type"])
    if k == "slice":
        return "[" + ty(v) + "]"
    if k == "array":
        return "[" + ty(v["type"]) + "; " + v["len"] + "]"
    if k == "tuple":
        return "(" + ", ".join(ty(x) for x in v) + ")"
    if k == "impl_trait":
        return "impl " + " + ".join(bound(b) for b in v)
    if k == "dyn_trait":
        parts = [path_of(p["trait"]["id"], p["trait"]["path"]) + args(p["trait"].get("args")) for p in v["traits"]]
        if v.get("lifetime"):
            parts.append(v["lifetime"])
        return "dyn " + " + ".join(parts)
    if k == "qualified_path":
        tr = v.get("trait")
        trait = " as " + path_of(tr["id"], tr["path"]) if tr else ""
        return f"<{ty(v['self_type'])}{trait}>::{v['name']}"
    if k == "function_pointer":
        return "fn(" + ", ".join(ty(x[1]) for x in v["sig"]["inputs"]) + ")" + (
            " -> " + ty(v["sig"]["output"]) if v["sig"]["output"] else "")
    return k


def generics(g):
    params = []
    for p in g["params"]:
        k = p["kind"]
        if "lifetime" in k:
            params.append(p["name"])
        elif "type" in k:
            if k["type"].get("is_synthetic"):
                continue
            bs = k["type"]["bounds"]
            params.append(p["name"] + (": " + " + ".join(bound(b) for b in bs) if bs else ""))
        elif "const" in k:
            params.append(f"const {p['name']}: {ty(k['const']['type'])}")
    out = "<" + ", ".join(params) + ">" if params else ""
    wheres = []
    for w in g["where_predicates"]:
        if "bound_predicate" in w:
            bp = w["bound_predicate"]
            wheres.append(ty(bp["type"]) + ": " + " + ".join(bound(b) for b in bp["bounds"]))
    if wheres:
        out += " where " + ", ".join(wheres)
    return out


def signature(name, f):
    h = f["header"]
    quals = ("const " if h["is_const"] else "") + ("unsafe " if h["is_unsafe"] else "")
    ins = []
    for n, t in f["sig"]["inputs"]:
        if n == "self" and t == {"generic": "Self"}:
            ins.append("self")
        elif n == "self" and t.get("borrowed_ref", {}).get("type") == {"generic": "Self"}:
            ins.append("&mut self" if t["borrowed_ref"]["is_mutable"] else "&self")
        else:
            ins.append(f"{n}: {ty(t)}")
    out = f["sig"]["output"]
    g = generics(f["generics"])
    where = ""
    if " where " in g:
        g, where = g.split(" where ", 1)
        where = " where " + where
    return f"{quals}fn {name}{g}({', '.join(ins)})" + (f" -> {ty(out)}" if out else "") + where


def impls(owner, it_path, impl_ids):
    for iid in impl_ids:
        im = item(iid)
        if im is None:
            continue
        i = im["inner"]["impl"]
        if i["is_synthetic"] or i["blanket_impl"] is not None:
            continue
        if i["trait"] is None:
            for mid in i["items"]:
                m = item(mid)
                if m is None or m["visibility"] != "public":
                    continue
                mk = kind_of(m)
                if mk == "function":
                    lines.add(f"{it_path}::{m['name']} {signature(m['name'], m['inner']['function'])}")
                elif mk == "assoc_const":
                    lines.add(f"{it_path}::{m['name']} const: {ty(m['inner']['assoc_const']['type'])}")
                elif mk == "assoc_type":
                    lines.add(f"{it_path}::{m['name']} type")
        else:
            t = i["trait"]
            neg = "!" if i["is_negative"] else ""
            lines.add(f"{it_path} impl {neg}{path_of(t['id'], t['path'])}{args(t.get('args'))}")


def fields(it_path, field_ids):
    for fid in field_ids:
        f = item(fid)
        if f is None:
            continue
        lines.add(f"{it_path}.{f['name']} field: {ty(f['inner']['struct_field'])}")


def walk(id_, path):
    it = item(id_)
    if it is None:
        return
    k = kind_of(it)
    inner = it["inner"][k]
    if k == "use":
        if inner["is_glob"]:
            target = item(inner["id"]) if inner["id"] is not None else None
            if target and kind_of(target) == "module":
                for c in target["inner"]["module"]["items"]:
                    walk(c, path)
            return
        target = item(inner["id"]) if inner["id"] is not None else None
        name = path + "::" + inner["name"]
        if target is None:
            # An item of another crate (rustix's Errno …).
            lines.add(f"{name} = {path_of(inner['id'], inner['source'])}")
            return
        walk_named(inner["id"], target, name)
        return
    if it["visibility"] != "public":
        return
    walk_named(id_, it, path + "::" + it["name"])


def walk_named(id_, it, name):
    k = kind_of(it)
    inner = it["inner"][k]
    public.setdefault(id_, name)
    if id_ in visited:
        # The same item under a second path: listed once, named here.
        lines.add(f"{name} = {public[id_]}")
        return
    visited.add(id_)
    if k == "module":
        lines.add(f"{name} mod")
        for c in inner["items"]:
            walk(c, name)
    elif k == "struct":
        sk = inner["kind"]
        shape = ""
        if "plain" in sk:
            fields(name, sk["plain"]["fields"])
            if sk["plain"]["has_stripped_fields"]:
                shape = " (private fields)"
        elif "tuple" in sk:
            fields(name, [f for f in sk["tuple"] if f is not None])
            if any(f is None for f in sk["tuple"]):
                shape = " (private fields)"
        lines.add(f"{name} {attrs(it)}struct{generics(inner['generics'])}{shape}")
        impls(id_, name, inner["impls"])
    elif k == "enum":
        lines.add(f"{name} {attrs(it)}enum{generics(inner['generics'])}")
        for vid in inner["variants"]:
            v = item(vid)
            vk = v["inner"]["variant"]["kind"]
            vname = f"{name}::{v['name']}"
            if vk == "plain":
                lines.add(f"{vname} {attrs(v)}variant")
            elif "tuple" in vk:
                ts = [ty(item(f)["inner"]["struct_field"]) if f is not None else "_" for f in vk["tuple"]]
                lines.add(f"{vname} {attrs(v)}variant({', '.join(ts)})")
            else:
                lines.add(f"{vname} {attrs(v)}variant {{}}")
                fields(vname, vk["struct"]["fields"])
        impls(id_, name, inner["impls"])
    elif k == "function":
        lines.add(f"{name} {signature(it['name'], inner)}")
    elif k == "constant":
        lines.add(f"{name} const: {ty(inner['type'])}")
    elif k == "static":
        lines.add(f"{name} static: {ty(inner['type'])}")
    elif k == "type_alias":
        lines.add(f"{name} type = {ty(inner['type'])}")
    elif k == "trait":
        lines.add(f"{name} trait")
        for mid in inner["items"]:
            m = item(mid)
            if m and kind_of(m) == "function":
                lines.add(f"{name}::{m['name']} {signature(m['name'], m['inner']['function'])}")
    elif k == "macro":
        lines.add(f"{name} macro")
    else:
        lines.add(f"{name} {k}")


root = item(doc["root"])
# Two passes: the first names every item by its public path, so that the
# second renders types by those names whatever order the walk takes.
for _ in range(2):
    lines.clear()
    visited.clear()
    for c in root["inner"]["module"]["items"]:
        walk(c, root["name"])
sys.stdout.write("".join(line + "\n" for line in sorted(lines)))
