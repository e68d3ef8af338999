! grep -q '>' "$OUT" || exit 1
# Columns are as wide as their longest value (name here), two spaces apart;
# allow_failure: exit_codes shows its codes.
grep -qxF 'name                    stage  when        allow_failure  needs' "$OUT" &&
grep -qxF 'build                   build  on_success  false' "$OUT" &&
grep -qxF 'a-much-longer-job-name  build  on_success  [3,42]' "$OUT" &&
grep -qxF 'test 1/2                test   on_success  false          [build]' "$OUT" ||
	{ cat "$OUT"; exit 1; }
