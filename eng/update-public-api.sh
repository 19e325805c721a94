#!/usr/bin/env bash
# Adds every undeclared public symbol (RS0016) of a project to its PublicAPI.Unshipped.txt, using the
# exact API names the PublicApiAnalyzers diagnostics carry. Review the diff: every line is a public API change.
# Usage: eng/update-public-api.sh src/Server/Realtime.Server
set -euo pipefail
dir=${1:?project folder}
sarif=$(mktemp)
trap 'rm -f "$sarif"' EXIT
dotnet build "$dir" -p:ErrorLog="$sarif%2Cversion=2.1" >/dev/null 2>&1 || true
python3 - "$sarif" "$dir/PublicAPI.Unshipped.txt" <<'PY'
import json, sys
sarif, target = sys.argv[1], sys.argv[2]
results = json.load(open(sarif))["runs"][0].get("results", [])
names = {r["properties"]["customProperties"]["APIName"] for r in results if r.get("ruleId") == "RS0016"}
lines = [l.rstrip("\n") for l in open(target)]
body = sorted(set(l for l in lines[1:] if l.strip()) | names)
open(target, "w").write("#nullable enable\n" + "".join(l + "\n" for l in body))
print(f"{len(names)} symbols added to {target}")
PY
