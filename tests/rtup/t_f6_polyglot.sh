# F6 polyglot: node, ruby and python pins (AC1), drift between .tool-versions
# and .nvmrc (AC2), dry run (AC4).
. "$(dirname "$0")/lib.sh"
fixture F6
versions "$T/versions"
printf '[repo.poly]\npath = "F6"\nwave = 4\n' > "$T/rtup.toml"
cd "$T"
"$RTUP" scan --json > scan.json; golden F6.scan.json scan.json
out=$("$RTUP" scan --runtime node 2>&1)
expect_eq "AC1 F6 node pins" "poly	.node-version:1:1	node	exact	20.11.0
poly	.nvmrc:1:2	node	exact	20.11.0
poly	.tool-versions:1:8	node	exact	20.10.0
poly	Dockerfile:1:11	node	exact	20.11.0
poly	package.json:4:16	node	minimum	20" "$out"
out=$("$RTUP" check --now 2026-03-01 2>&1); rc=$?  # node 20 ends 2026-04-30
expect_eq "AC2 F6 check: exactly the nodejs drift" "1:poly: inconsistent: .tool-versions nodejs 20.10.0 is behind .nvmrc 20.11.0 (line 1)" "$rc:$out"
dry_run_clean F6 --to node@20.11.0
out=$("$RTUP" apply --to node@20.11.0 --no-commit 2>&1); rc=$?
expect_eq "F6 apply node exit" 0 "$rc"
expect_eq "F6 only .tool-versions changes" ".tool-versions" "$(git -C F6 diff --name-only)"
expect_eq "F6 .tool-versions line" "nodejs 20.11.0" "$(head -1 F6/.tool-versions)"
expect_eq "F6 v prefix and the rest kept" "v20.11.0" "$(cat F6/.nvmrc)"
git -C F6 commit -qam bumped
out=$("$RTUP" check --now 2026-03-01 2>&1); rc=$?  # node 20 ends 2026-04-30
expect_eq "AC2 F6 check after apply exits 0" "0:" "$rc:$out"
# A node bump keeps prefix, suffix and minimum shape (a target must be a
# release of the table: 22.1.0 is added to it here).
printf 'node\t22.1.0\t2024-04-24\tstable\n' >> "$T/versions/node.tsv"
"$RTUP" apply --to node@22.1.0 --no-commit >/dev/null 2>&1
expect_eq "F6 node@22.1.0: .nvmrc keeps v" "v22.1.0" "$(cat F6/.nvmrc)"
expect_has "F6 node@22.1.0: Dockerfile keeps -alpine3.19" "FROM node:22.1.0-alpine3.19" "$(cat F6/Dockerfile)"
expect_has "F6 node@22.1.0: engines minimum kept (policy keep)" '"node": ">=20"' "$(cat F6/package.json)"
expect_eq "F6 ruby and python untouched" "3.3.0 3.12.1" "$(cat F6/.ruby-version) $(cat F6/.python-version)"
finish
