printf 'first\nbuild\ntest\ndeploy\nlast\n' | diff - "$WORK/order.log"
