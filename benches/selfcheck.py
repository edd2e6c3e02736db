"""The bench's self-check: the peer baselines do the same core work as
ownermap, so their edges (caller, callee, sync/async, calls) between
instrumented services and their services' entry-span counts must equal
ownermap's `edges` (callee_type = service) and `services` (requests; the
peers add, untimed, the Internal/Unspecified entry spans of SPEC 2.1).
Usage: python selfcheck.py OWNERMAP_OUT DUMP.json NAME   (exit 1 on a mismatch)"""
import csv, json, sys

out, dump, name = sys.argv[1], sys.argv[2], sys.argv[3]
peer = json.load(open(dump))
ours_e = {(r["caller"], r["callee"], r["kind"]): int(r["calls"])
          for r in csv.DictReader(open(f"{out}/data/edges.csv")) if r["callee_type"] == "service"}
ours_s = {r["service"]: int(r["requests"]) for r in csv.DictReader(open(f"{out}/data/services.csv"))}
peer_e = {(a, b, k): int(n) for a, b, k, n in peer["edges"]}
peer_s = {a: int(n) for a, n in peer["services"]}
bad = [f"edge {k}: ownermap {ours_e.get(k)}, {name} {peer_e.get(k)}" for k in sorted(set(ours_e) | set(peer_e)) if ours_e.get(k) != peer_e.get(k)]
bad += [f"service {k}: ownermap {ours_s.get(k)}, {name} {peer_s.get(k)}" for k in sorted(set(peer_s)) if ours_s.get(k) != peer_s.get(k)]
calls = sum(peer_e.values())
print(f"self-check {name}: {len(peer_e)} edges ({calls} calls), {len(peer_s)} services: "
      + ("identical to ownermap's" if not bad else f"{len(bad)} differ"))
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad else 0)
