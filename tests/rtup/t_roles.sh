# Roles not covered by F1-F7: go-fips following go (lag when its table
# lacks the target), next (newest release or pre-release), sync toolchain,
# minimum track-minor, and check's handling of them.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/R"
cd "$T/R"
printf 'variables:\n  GO_VERSION: "1.26.3"\n  GO_FIPS_VERSION: "1.26.0"\n  NEXT_GO_VERSION: "1.26.4"\n  FIPS_IMAGE: registry.example.com/golang-fips:1.26.0\n' > .gitlab-ci.yml
printf 'module r\n\ngo 1.24.2\n\ntoolchain go1.26.3\n' > go.mod
mkrepo "$T/R"
cd "$T"
versions "$T/versions"
manifest() {
	printf '[runtime.go]\nwindow = 2\n%s\n[repo.r]\npath = "R"\n' "$1" > rtup.toml
}
manifest 'toolchain = "sync"
minimum = "track-minor,patch-zero"'
out=$("$RTUP" scan 2>&1)
expect_has "go-fips variable is a go-fips pin" ".gitlab-ci.yml:3:21	go-fips	exact	1.26.0" "$out"
expect_has "go-fips image is a go-fips pin" ".gitlab-ci.yml:5:48	go-fips	exact	1.26.0" "$out"
expect_has "NEXT_ variable is a next pin" ".gitlab-ci.yml:4:21	go	next	1.26.4" "$out"
out=$("$RTUP" plan --to go@1.26.5 --now 2027-03-01 2>&1); rc=$?
expect_eq "plan exit (go-fips lag is not serious)" 0 "$rc"
expect_has "go-fips follows go, lagging" "lag: go-fips 1.26.3 < go 1.26.5" "$out"
expect_has "go-fips pin set to the newest go-fips of go's minor" "r: .gitlab-ci.yml:3: -> 1.26.3" "$out"
expect_has "go-fips image too" "r: .gitlab-ci.yml:5: -> 1.26.3" "$out"
expect_has "next pin: newest release at now" "r: .gitlab-ci.yml:4: -> 1.27.0" "$out"
expect_has "toolchain sync" "r: go.mod:5: -> 1.26.5" "$out"
expect_has "minimum track-minor,patch-zero" "r: go.mod:3: -> 1.26.0" "$out"
out=$("$RTUP" plan --to go@1.26.5 --now 2027-01-20 2>&1)
expect_has "next pin: a pre-release counts" "r: .gitlab-ci.yml:4: -> 1.27rc1" "$out"
manifest 'allow-lag = "none"'
printf '[runtime.go]\nwindow = 2\n[runtime.go-fips]\nfollows = "go"\nallow-lag = "none"\n[repo.r]\npath = "R"\n' > rtup.toml
out=$("$RTUP" plan --to go@1.26.5 2>&1); rc=$?
expect_eq "allow-lag = none makes the lag a finding" 1 "$rc"
printf 'go-fips\t1.26.5\t2026-07-20\tstable\n' >> versions/go-fips.tsv
out=$("$RTUP" plan --to go@1.26.5 2>&1); rc=$?
expect_eq "no lag once go-fips 1.26.5 is out" "0" "$rc"
expect_not "no lag line" "lag:" "$out"
# Annotations: a bound one follows the target's minor, a far one warns.
mkdir -p "$T/A" && printf 'variables:\n  # renovate: datasource=docker depName=golang allowedVersions=/1\\.26\\..+/\n  GO_VERSION: "1.26.3"\n  # renovate: datasource=docker depName=golang allowedVersions=/1\\.26\\..+/\n\n\n\n  OTHER: "x"\n' > "$T/A/.gitlab-ci.yml" && mkrepo "$T/A"
printf '[repo.a]\npath = "A"\n' > ann.toml
out=$("$RTUP" scan -C ann.toml 2>&1)
expect_has "bound annotation" "a	.gitlab-ci.yml:2:65	go	annotation	1\\.26" "$out"
expect_has "far annotation warned" ".gitlab-ci.yml:4:65	go	annotation	1\\.26	annotation-misbound (no pin within 2 lines)" "$out"
"$RTUP" apply -C ann.toml --to go@1.27.0 --now 2027-03-01 --no-commit >/dev/null 2>&1
expect_eq "bound annotation follows the minor, the far one is left" "variables:
  # renovate: datasource=docker depName=golang allowedVersions=/1\\.27\\..+/
  GO_VERSION: \"1.27.0\"
  # renovate: datasource=docker depName=golang allowedVersions=/1\\.26\\..+/" "$(head -4 A/.gitlab-ci.yml)"
# A violated invariant aborts the repository's plan: nothing is written,
# also through a saved plan.
mkdir -p "$T/M" && printf 'variables:\n  GO_VERSION: "1.26.3"\n' > "$T/M/.gitlab-ci.yml" &&
	printf 'module m\n\ngo 1.27.0\n' > "$T/M/go.mod" && mkrepo "$T/M"
printf '[runtime.go]\nminimum = "raise-to-oldest-supported"\n[repo.m]\npath = "M"\n' > inv.toml
out=$("$RTUP" plan -C inv.toml --to go@1.26.5 -o inv.json 2>&1); rc=$?
expect_eq "invariant: plan exit" 1 "$rc"
expect_has "invariant: finding" "m: inconsistent: go.mod:3: minimum above the target or max (planned 1.27.0); nothing written" "$out"
expect_has "invariant: saved plan says aborted" '"aborted": true' "$(cat inv.json)"
out=$("$RTUP" apply -C inv.toml --to go@1.26.5 2>&1); rc=$?
expect_eq "invariant: apply exit" 1 "$rc"
out=$("$RTUP" apply -C inv.toml --plan inv.json --no-commit 2>&1); rc=$?
expect_eq "invariant: apply --plan exit" 1 "$rc"
expect_eq "invariant: nothing written, no branch" "" "$(git -C M status --porcelain; git -C M branch --list 'rtup/*')"
# A runtime that only a [rule] knows: scanned, checked, planned, reported.
mkdir -p "$T/TF/infra" && printf 'terraform {\n  required_version = "1.5.7"\n}\n' > "$T/TF/main.tf" &&
	printf 'terraform {\n  required_version = "1.5.6"\n}\n' > "$T/TF/infra/main.tf" && mkrepo "$T/TF"
printf 'terraform\t1.5.7\t2023-09-07\tstable\nterraform\t1.6.0\t2023-10-04\tstable\n' > versions/terraform.tsv
printf '[repo.tf]\npath = "TF"\n[rule.tf]\nruntime = "terraform"\nfiles = ["**/*.tf"]\nregex = "^ *required_version = \\"([0-9.]+)\\""\n' > tf.toml
out=$("$RTUP" scan -C tf.toml 2>&1)
expect_eq "rule runtime: pins" "tf	infra/main.tf:2:23	terraform	exact	1.5.6
tf	main.tf:2:23	terraform	exact	1.5.7" "$out"
out=$("$RTUP" check -C tf.toml --now 2023-11-01 2>&1); rc=$?
expect_eq "rule runtime: check finds the drift" "1:tf: inconsistent: main.tf 1.5.7 is ahead of infra/main.tf 1.5.6 (line 2)
tf: terraform 1.5.6: lagging(1 patch)" "$rc:$out"
out=$("$RTUP" apply -C tf.toml --to terraform@1.6.0 --no-commit 2>&1); rc=$?
expect_eq "rule runtime: apply exit" 0 "$rc"
expect_eq "rule runtime: both files" "  required_version = \"1.6.0\"
  required_version = \"1.6.0\"" "$(grep required TF/main.tf TF/infra/main.tf -h)"
out=$("$RTUP" report -C tf.toml --now 2023-11-01 --md - 2>&1); rc=$?
expect_has "rule runtime: report row" "| tf | 1 | terraform | 1.6.0 | 1.6.0 | current |" "$out"
# Precision: a go.mod minimum "go 1.25.8" agrees with a CI minor "1.25";
# a minimum of a later minor is still ahead.
mkdir -p "$T/P" && printf 'module p\n\ngo 1.25.8\n' > "$T/P/go.mod" &&
	printf 'variables:\n  GO_VERSION: "1.25"\n' > "$T/P/.gitlab-ci.yml" && mkrepo "$T/P"
printf '[repo.p]\npath = "P"\n' > prec.toml
out=$("$RTUP" check -C prec.toml --now 2026-01-01 2>&1); rc=$?
expect_not "precision: go 1.25.8 is not ahead of CI 1.25" "inconsistent" "$out"
printf 'module p\n\ngo 1.26.1\n' > "$T/P/go.mod" && git -C "$T/P" commit -qam later
out=$("$RTUP" check -C prec.toml --now 2026-01-01 2>&1); rc=$?
expect_has "precision: go 1.26.1 is ahead of CI 1.25" "inconsistent: go.mod 1.26.1 is ahead of" "$out"
# Image pins behind a registry variable and in the image: name: form.
mkdir -p "$T/I" && printf 'lint:\n  image: ${REGISTRY_PREFIX}node:24-slim\ntest:\n  image:\n    name: golang:1.26.3\n    entrypoint: [""]\n  services:\n    - name: postgres:15\nother:\n  image:\n    # a comment\n    name: $CI_REGISTRY/python:3.12.1\n' > "$T/I/.gitlab-ci.yml" && mkrepo "$T/I"
printf '[repo.i]\npath = "I"\n' > img.toml
out=$("$RTUP" scan -C img.toml 2>&1)
expect_has "image after a registry variable" "i	.gitlab-ci.yml:2:33	node	" "$out"
expect_has "image: name: mapping" "i	.gitlab-ci.yml:5:18	go	exact	1.26.3" "$out"
expect_has "image: name: after a comment, registry variable" "i	.gitlab-ci.yml:12:31	python	exact	3.12.1" "$out"
expect_not "a service's name: is no image: pin" "postgres" "$out"
out=$("$RTUP" plan -C img.toml --to go@1.26.5 --now 2026-12-01 --diff 2>&1)
expect_has "the mapping form is planned" "+    name: golang:1.26.5" "$out"
# No manifest: scan and check take the current directory as the one
# repository with the built-in rules; plan still wants a manifest.
out=$(cd "$T/I" && "$RTUP" scan 2>&1); rc=$?
expect_eq "manifest-free scan exit" 0 "$rc"
expect_has "manifest-free scan says so" "no rtup.toml here: the current directory is the one repository ('I')" "$out"
expect_has "manifest-free scan finds the pins" "I	.gitlab-ci.yml:5:18	go	exact	1.26.3" "$out"
out=$(cd "$T/P" && "$RTUP" check --now 2026-01-01 2>&1); rc=$?
expect_has "manifest-free check" "P: inconsistent: go.mod 1.26.1 is ahead of" "$out"
out=$(cd "$T/I" && "$RTUP" plan --to go@1.26.5 2>&1); rc=$?
expect_eq "plan without a manifest: exit" 2 "$rc"
# Make's $(shell ...) (a command, no variable) is not a derived pin; a
# variable reference is (issue 20 item 9).
mkdir -p "$T/mk" && printf 'GO_VERSION ?= $(shell cat .go-version)\nGOLANG_VERSION ?= $(GO_VERSION)\n' > "$T/mk/Makefile" &&
	printf '1.25.8\n' > "$T/mk/.go-version" && mkrepo "$T/mk"
out=$(cd "$T/mk" && "$RTUP" scan 2>/dev/null)
expect_eq "scan: \$(shell ...) is no pin, \$(GO_VERSION) is a derived one" "mk	.go-version:1:1	go	exact	1.25.8
mk	Makefile:2:19	go	derived	\$(GO_VERSION)" "$out"
finish
