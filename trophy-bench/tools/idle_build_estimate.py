#!/usr/bin/env python3
# Usage: idle_build_estimate.py GRAPH.html QUIET_REFERENCE.html [JOBS]  (cargo --timings reports)
# Estimates the wall time of a clean build on an idle 2-core machine: the dependency graph and
# order of one cargo --timings report, unit durations from a reference report taken on a quiet
# machine (units missing there are scaled by the median ratio of the shared units), and a
# 2-slot list scheduler like cargo's -j2.
import re, json, sys, statistics
def load(f):
    s=open(f).read()
    return json.loads(re.search(r'const UNIT_DATA = (\[.*?\]);',s,re.S).group(1))
def key(u): return (u['name'],u['version'],u.get('target','').strip(),u.get('mode',''))
graph=load(sys.argv[1]); ref={key(u):u for u in load(sys.argv[2])}
jobs=int(sys.argv[3]) if len(sys.argv)>3 else 2
ratios=[u['duration']/ref[key(u)]['duration'] for u in graph if key(u) in ref and ref[key(u)]['duration']>0.5]
scale=statistics.median(ratios)
dur={};rm={}
for u in graph:
    r=ref.get(key(u))
    d=r['duration'] if r else u['duration']/scale
    dur[u['i']]=d
    frac=(u['rmeta_time']/u['duration']) if u.get('rmeta_time') and u['duration']>0 else 1.0
    rm[u['i']]=d*frac
deps={u['i']:[] for u in graph}
for u in graph:
    for y in u.get('unlocked_units',[]): deps[y].append((u['i'],'full'))
    for y in u.get('unlocked_rmeta_units',[]): deps[y].append((u['i'],'rmeta'))
order=sorted(graph,key=lambda u:u['start'])
done_full={};done_rm={}
slots=[0.0]*jobs
pending=[u['i'] for u in order]
t_end={}
while pending:
    # pick the first pending unit (cargo order) whose deps are known, earliest feasible
    best=None
    for i in pending:
        ok=True;ready=0.0
        for d,kind in deps[i]:
            m=done_full if kind=='full' else done_rm
            if d not in m: ok=False;break
            ready=max(ready,m[d])
        if ok: best=(i,ready);break
    i,ready=best
    k=min(range(jobs),key=lambda j:slots[j])
    st=max(slots[k],ready)
    slots[k]=st+dur[i]
    done_full[i]=st+dur[i]; done_rm[i]=st+rm[i]
    pending.remove(i)
print(f"{sys.argv[1].split('/')[-1]}: {len(graph)} units, {len(ratios)} timed from the reference (scale {scale:.2f} for the rest), sum {sum(dur.values()):.1f} s, estimated wall with -j{jobs}: {max(done_full.values()):.1f} s")
