#!/usr/bin/env python3
"""Which crate:: modules each module of src/ imports, and any import cycles.

Usage: scripts/module-deps.py [top|engine|store|serve|output|cmd|journal] [SRC]
  top (the default): the top-level modules; NAME: the files of src/NAME/
  (a child's use of its parent, `mod`, is allowed and shown as `mod`).
Test modules (`#[cfg(test)] mod ...`, tests/ folders) and comments are left
out. Exits 1 when the graph has a cycle (scripts/test runs it for every level),
so the layout of DESIGN.md section 4 stays acyclic (issue 17).
A reader of Rust text, not a compiler: it follows `crate::` paths, brace
groups included, and `super::` in a module's direct children."""
import os, re, sys, itertools
root = sys.argv[2] if len(sys.argv) > 2 else "src"
level = sys.argv[1] if len(sys.argv) > 1 else "top"
def strip_tests(text):
    # drop #[cfg(test)] mod ... { } blocks (unit tests may import anything)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        pass
    lines = text.split("\n"); res=[]; skip=0; depth=0; pending=False
    for ln in lines:
        if skip:
            depth += ln.count("{") - ln.count("}")
            if depth <= 0: skip = 0
            continue
        if pending and re.match(r"\s*mod\s+\w+\s*\{", ln):
            skip=1; depth = ln.count("{") - ln.count("}"); pending=False
            if depth<=0: skip=0
            continue
        if pending and re.match(r"\s*mod\s+\w+\s*;", ln):
            pending=False; continue
        pending = bool(re.match(r"\s*#\[cfg\(test\)\]\s*$", ln))
        res.append(ln)
    return "\n".join(res)
def paths_in(text):
    # expand `crate::{a::{b,c}, d}` into crate::a::b ... (enough to get 2 levels)
    out=set()
    for m in re.finditer(r"crate::", text):
        j = m.end()
        # parse a use-tree
        def parse(j, prefix):
            res=[]
            k=j
            mm = re.match(r"\s*\{", text[k:])
            if mm:
                k += mm.end()
                while True:
                    mm2 = re.match(r"\s*\}", text[k:])
                    if mm2: k += mm2.end(); break
                    sub, k = parse(k, prefix)
                    res += sub
                    mm3 = re.match(r"\s*,", text[k:])
                    if mm3: k += mm3.end()
                return res, k
            mm = re.match(r"\s*(\w+)", text[k:])
            if not mm: return [prefix], k
            name = mm.group(1); k += mm.end()
            if text[k:k+2] == "::":
                return parse(k+2, prefix+[name])
            return [prefix+[name]], k
        try:
            ps,_ = parse(j, [])
        except RecursionError:
            continue
        for p in ps: out.add(tuple(p))
    return out
deps={}
for dp, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith(".rs"): continue
        path=os.path.join(dp,f); rel=os.path.relpath(path, root)
        parts = rel[:-3].split("/")
        if parts[-1] in ("mod",): parts=parts[:-1]
        if "tests" in parts or parts[-1]=="tests": continue
        text=strip_tests(re.sub(r"//.*","",open(path).read()))
        if level=="top":
            me = parts[0]
            if me in ("main","lib"): continue
            for p in paths_in(text):
                if p and p[0]!=me: deps.setdefault(me,set()).add(p[0])
            deps.setdefault(me,set())
        else:
            if parts[0]!=level or len(parts)<2: continue
            me=parts[1]
            for p in paths_in(text):
                if len(p)>=2 and p[0]==level and p[1]!=me: deps.setdefault(me,set()).add(p[1])
            # super::x
            for m in re.finditer(r"super::(\w+)", text):
                if len(parts)==2 and m.group(1)!=me: deps.setdefault(me,set()).add(m.group(1))
            deps.setdefault(me,set())
if level!="top":
    mods=set(deps)
    for k in deps: deps[k]={d if d in mods else "mod" for d in deps[k]} - {k}
for k in sorted(deps): print(f"{k:12} -> {', '.join(sorted(deps[k])) or '(nothing)'}")
# cycles: strongly connected components
idx={}; low={}; st=[]; on=set(); sccs=[]; c=[0]
def sc(v):
    idx[v]=low[v]=c[0]; c[0]+=1; st.append(v); on.add(v)
    for w in deps.get(v,()):
        if w not in deps: continue
        if w not in idx: sc(w); low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop(); on.discard(w); comp.append(w)
            if w==v: break
        if len(comp)>1: sccs.append(sorted(comp))
for v in list(deps):
    if v not in idx: sc(v)
print("cycles:", sccs if sccs else "none")
sys.exit(1 if sccs else 0)
