[ "$(grep -c 'another project or pipeline' "$ERR")" = 1 ] || { cat "$ERR"; exit 1; }
