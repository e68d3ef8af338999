# Support windows per runtime (issue 20 item 8): Node's LTS rule (even
# majors, a major is the line, odd majors never a target), Ruby's and
# Python's, Go's "two minors on" for go and go-fips, and eol= rows winning
# over every rule.  Release dates below are the real ones.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/versions"
cd "$T"
{
	printf 'node\t16.0.0\t2021-04-20\tstable\teol=2023-09-11\n'
	printf 'node\t18.0.0\t2022-04-19\tstable\nnode\t18.20.8\t2025-03-27\tstable\n'
	printf 'node\t19.0.0\t2022-10-18\tstable\n'
	printf 'node\t20.0.0\t2023-04-18\tstable\nnode\t20.19.0\t2025-03-13\tstable\n'
	printf 'node\t21.0.0\t2023-10-17\tstable\nnode\t21.7.3\t2024-04-10\tstable\n'
	printf 'node\t22.0.0\t2024-04-24\tstable\nnode\t22.15.0\t2025-04-23\tstable\n'
	printf 'node\t23.0.0\t2024-10-16\tstable\nnode\t23.11.0\t2025-04-01\tstable\n'
	printf 'node\t24.0.0\t2025-05-06\tstable\n'
} > versions/node.tsv
for v in 3.1.0:2021-12-25 3.2.0:2022-12-25 3.3.0:2023-12-25 3.4.0:2024-12-25; do
	printf 'ruby\t%s\t%s\tstable\n' "${v%%:*}" "${v#*:}"
done > versions/ruby.tsv
for v in 3.8.0:2019-10-14 3.9.0:2020-10-05 3.10.0:2021-10-04 3.11.0:2022-10-24 3.12.0:2023-10-02 3.13.0:2024-10-07; do
	printf 'python\t%s\t%s\tstable\n' "${v%%:*}" "${v#*:}"
done > versions/python.tsv
printf 'go\t1.23.0\t2024-08-13\tstable\ngo\t1.24.0\t2025-02-11\tstable\ngo\t1.25.0\t2025-08-12\tstable\ngo\t1.25.3\t2025-10-13\tstable\n' > versions/go.tsv
printf 'go-fips\t1.23.0\t2024-08-20\tstable\ngo-fips\t1.24.0\t2025-02-20\tstable\ngo-fips\t1.25.0\t2025-08-20\tstable\n' > versions/go-fips.tsv
mkdir -p R && printf 'x\n' > R/x && mkrepo R
printf '[repo.r]\npath = "R"\n[runtime.node]\nwindow = 5\n[runtime.ruby]\nwindow = 5\n[runtime.python]\nwindow = 9\n[runtime.go]\nwindow = 5\n[runtime.go-fips]\nwindow = 5\n' > rtup.toml

sup() { "$RTUP" versions "$1" --supported --now "$2" 2>&1; }
expect_eq "node: the LTS majors on 2025-04-29 (18 ends April 30, 16 by its eol= row)" "18 20 22" "$(sup node 2025-04-29)"
expect_eq "node: 18 has ended on 2025-05-01; 24 not out yet" "20 22" "$(sup node 2025-05-01)"
expect_eq "node: odd majors are never listed (23 is current on 2025-05-10)" "20 22 24" "$(sup node 2025-05-10)"
expect_eq "node: 16's eol= row wins over the rule (2024-04-30)" "18 20" "$(sup node 2023-10-01)"
expect_eq "ruby: a minor ends March 31 of its year + 4" "3.1 3.2 3.3 3.4" "$(sup ruby 2025-03-30)"
expect_eq "ruby: 3.1 has ended on 2025-04-01" "3.2 3.3 3.4" "$(sup ruby 2025-04-01)"
expect_eq "python: five years from the .0 (3.8 until 2024-10-14; 3.13 out 10-07)" "3.8 3.9 3.10 3.11 3.12 3.13" "$(sup python 2024-10-13)"
expect_eq "python: 3.8 has ended on 2024-10-15" "3.9 3.10 3.11 3.12 3.13" "$(sup python 2024-10-15)"
expect_eq "go: a minor until the second one after it is out" "1.24 1.25" "$(sup go 2025-09-01)"
expect_eq "go-fips follows go's rule" "1.24 1.25" "$(sup go-fips 2025-09-01)"
printf 'python\t3.9.1\t2020-12-07\tstable\teol=2025-05-01\n' >> versions/python.tsv
expect_eq "python: an eol= row on any release of the line wins" "3.10 3.11 3.12 3.13" "$(sup python 2025-06-01)"

# The policy target for node is the newest release of the newest LTS line.
printf 'nodejs 21.7.3\n' > R/.tool-versions && git -C R add -A && git -C R commit -qm node21
out=$("$RTUP" check --now 2025-01-10 2>&1); rc=$?
expect_eq "check: node 21 ended 2024-06-01 though newer than LTS 18" "1:r: node 21.7.3: lagging(minor EOL)" "$rc:$out"
printf 'nodejs 23.11.0\n' > R/.tool-versions && git -C R commit -qam node23
out=$("$RTUP" check --now 2025-05-10 2>&1); rc=$?
expect_eq "check: node 23 is supported until 2025-06-01" "0:" "$rc:$out"
out=$("$RTUP" check --now 2025-06-02 2>&1); rc=$?
expect_eq "check: node 23 has ended on 2025-06-02" "1:r: node 23.11.0: lagging(minor EOL)" "$rc:$out"
printf 'nodejs 20.0.0\n' > R/.tool-versions && git -C R commit -qam node20
out=$("$RTUP" plan --policy --now 2025-05-01 --diff 2>&1); rc=$?
expect_has "plan --policy: node's target is the newest release of the newest LTS line" "+nodejs 22.15.0" "$out"
finish
