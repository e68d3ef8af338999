# quick and fast-build start at once; after comes right after slow-build.
tail -2 "$WORK/order.log" | tr '\n' ' ' | grep -qx 'slow-build after ' || { cat "$WORK/order.log"; exit 1; }
