printf 'start-a\nend-a\nstart-b\nend-b\nstart-c\nend-c\n' | diff - "$WORK/log"
